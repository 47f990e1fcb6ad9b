package dev.tokenbudget.telemetry;

import dev.tokenbudget.config.ConfigLoader;
import dev.tokenbudget.engine.BudgetEngine;
import dev.tokenbudget.engine.BudgetRequest;
import dev.tokenbudget.engine.Decision;
import dev.tokenbudget.engine.Ticket;
import dev.tokenbudget.identity.KeyHash;
import dev.tokenbudget.usage.TokenUsage;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.metrics.SdkMeterProvider;
import io.opentelemetry.sdk.metrics.data.MetricData;
import io.opentelemetry.sdk.testing.exporter.InMemoryMetricReader;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import org.junit.jupiter.api.Test;

import java.util.Collection;

import static org.assertj.core.api.Assertions.assertThat;

class BudgetTelemetryTest {

    private static final String YAML = """
            budgets:
              - id: org
                windows: [{ period: month, limits: { total: 1000 } }]
                thresholds: [{ at: 50, policy: alert_only }, { at: 100, policy: hard_stop }]
            keys:
              - { name: k, sha256: %s, budget: org, user_windows: [{ period: day, limits: { total: 900 } }] }
            """.formatted(KeyHash.of("k"));

    private final InMemoryMetricReader reader = InMemoryMetricReader.create();
    private final InMemorySpanExporter spans = InMemorySpanExporter.create();
    private final OpenTelemetrySdk otel = OpenTelemetrySdk.builder()
            .setMeterProvider(SdkMeterProvider.builder().registerMetricReader(reader).build())
            .setTracerProvider(SdkTracerProvider.builder().addSpanProcessor(SimpleSpanProcessor.create(spans)).build())
            .build();

    private long sum(Collection<MetricData> data, String name, Attributes attrs) {
        return data.stream().filter(m -> m.getName().equals(name))
                .flatMap(m -> m.getLongSumData().getPoints().stream())
                .filter(p -> p.getAttributes().equals(attrs)).mapToLong(p -> p.getValue()).sum();
    }

    @Test
    void recordsTokensDecisionsAlertsLatencyAndUtilisation() {
        BudgetEngine engine = BudgetEngine.builder(ConfigLoader.parse(YAML))
                .telemetry(BudgetTelemetry.of(otel)).build();
        var key = engine.authenticate("k").orElseThrow();
        Ticket t = engine.reserve(new BudgetRequest(key, null, "alice", "gpt-4.1", 300, 300));
        engine.settle(t, TokenUsage.of(250, 350));
        Ticket refused = engine.reserve(new BudgetRequest(key, null, "bob", "gpt-4.1", 400, 300));
        assertThat(refused.decision().admitted()).isFalse();
        // more than bob's whole day of 900: never admitted, counted apart
        Ticket never = engine.reserve(new BudgetRequest(key, null, "bob", "gpt-4.1", 500, 500));
        assertThat(never.decision().reason()).isEqualTo(Decision.Reason.REQUEST_EXCEEDS_LIMIT);

        Collection<MetricData> data = reader.collectAllMetrics();
        AttributeKey<String> budget = AttributeKey.stringKey("tokenbudget.budget");
        AttributeKey<String> dir = AttributeKey.stringKey("tokenbudget.direction");
        assertThat(sum(data, "tokenbudget.tokens", Attributes.of(budget, "org", dir, "input"))).isEqualTo(250);
        assertThat(sum(data, "tokenbudget.tokens", Attributes.of(budget, "org", dir, "output"))).isEqualTo(350);
        // per-user budgets never become attributes
        assertThat(data.stream().filter(m -> m.getName().equals("tokenbudget.tokens"))
                .flatMap(m -> m.getLongSumData().getPoints().stream())
                .map(p -> p.getAttributes().get(budget))).doesNotContain("user:k:alice");
        AttributeKey<String> outcome = AttributeKey.stringKey("tokenbudget.outcome");
        AttributeKey<String> reason = AttributeKey.stringKey("tokenbudget.reason");
        assertThat(sum(data, "tokenbudget.decisions", Attributes.of(outcome, "allow", reason, "within_budget")))
                .isEqualTo(1);
        assertThat(sum(data, "tokenbudget.decisions", Attributes.of(outcome, "reject", reason, "budget_exhausted")))
                .isEqualTo(1);
        assertThat(sum(data, "tokenbudget.decisions", Attributes.of(outcome, "reject", reason,
                "request_exceeds_limit"))).isEqualTo(1);
        assertThat(sum(data, "tokenbudget.alerts", Attributes.of(budget, "org",
                AttributeKey.longKey("tokenbudget.threshold"), 50L))).isEqualTo(1);
        assertThat(data).anySatisfy(m -> {
            assertThat(m.getName()).isEqualTo("tokenbudget.store.latency");
            assertThat(m.getHistogramData().getPoints()).isNotEmpty();
        });
        assertThat(data).anySatisfy(m -> {
            assertThat(m.getName()).isEqualTo("tokenbudget.utilization");
            assertThat(m.getDoubleGaugeData().getPoints()).anySatisfy(p -> {
                assertThat(p.getAttributes().get(budget)).isEqualTo("org");
                assertThat(p.getValue()).isEqualTo(0.6);
            });
        });
    }

    @Test
    void putsGenAiUsageAndTheDecisionOnTheRequestSpan() {
        BudgetEngine engine = BudgetEngine.builder(ConfigLoader.parse(YAML)).build();
        var key = engine.authenticate("k").orElseThrow();
        Ticket t = engine.reserve(new BudgetRequest(key, null, null, "gpt-4.1", 100, 100));
        Span span = otel.getTracer("test").spanBuilder("POST /v1/chat/completions").startSpan();
        BudgetTelemetry.annotate(span, t);
        BudgetTelemetry.annotateUsage(span, TokenUsage.of(90, 40), "gpt-4.1-2025-04-14");
        span.end();
        SpanData s = spans.getFinishedSpanItems().get(0);
        assertThat(s.getAttributes().get(AttributeKey.longKey("gen_ai.usage.input_tokens"))).isEqualTo(90);
        assertThat(s.getAttributes().get(AttributeKey.longKey("gen_ai.usage.output_tokens"))).isEqualTo(40);
        assertThat(s.getAttributes().get(AttributeKey.stringKey("gen_ai.request.model"))).isEqualTo("gpt-4.1");
        assertThat(s.getAttributes().get(AttributeKey.stringKey("gen_ai.response.model")))
                .isEqualTo("gpt-4.1-2025-04-14");
        assertThat(s.getAttributes().get(AttributeKey.stringKey("tokenbudget.decision"))).isEqualTo("allow");
        assertThat(s.getAttributes().get(AttributeKey.stringKey("tokenbudget.binding_budget"))).isEqualTo("org");
    }
}
