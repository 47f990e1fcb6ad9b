package dev.tokenbudget.telemetry;

import dev.tokenbudget.engine.BudgetStatus;
import dev.tokenbudget.engine.Decision;
import dev.tokenbudget.engine.Ticket;
import dev.tokenbudget.event.BudgetEvent;
import dev.tokenbudget.usage.TokenUsage;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.metrics.DoubleHistogram;
import io.opentelemetry.api.metrics.LongCounter;
import io.opentelemetry.api.metrics.Meter;
import io.opentelemetry.api.trace.Span;

import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Supplier;

/**
 * OpenTelemetry instruments of the engine, on the API only: the host configures the SDK and its
 * exporters (OTLP by configuration). Metrics: {@code tokenbudget.tokens} (by budget and
 * direction), {@code tokenbudget.utilization} (gauge, by budget), {@code tokenbudget.decisions}
 * (by outcome and reason), {@code tokenbudget.alerts} (threshold crossings, by budget and
 * threshold) and {@code tokenbudget.store.latency} (by operation). On the request span, the GenAI
 * semantic conventions' usage attributes and the budget decision.
 *
 * <p>Per-user budgets ({@code user:…}) never become metric attributes: their number is unbounded.
 */
public final class BudgetTelemetry {

    public static final String SCOPE = "dev.tokenbudget";

    static final AttributeKey<String> BUDGET = AttributeKey.stringKey("tokenbudget.budget");
    static final AttributeKey<String> DIRECTION = AttributeKey.stringKey("tokenbudget.direction");
    static final AttributeKey<String> OUTCOME = AttributeKey.stringKey("tokenbudget.outcome");
    static final AttributeKey<String> REASON = AttributeKey.stringKey("tokenbudget.reason");
    static final AttributeKey<Long> THRESHOLD = AttributeKey.longKey("tokenbudget.threshold");
    static final AttributeKey<String> OPERATION = AttributeKey.stringKey("tokenbudget.store.operation");

    /** GenAI semantic-convention attribute names. */
    public static final AttributeKey<Long> GEN_AI_INPUT = AttributeKey.longKey("gen_ai.usage.input_tokens");
    public static final AttributeKey<Long> GEN_AI_OUTPUT = AttributeKey.longKey("gen_ai.usage.output_tokens");
    public static final AttributeKey<String> GEN_AI_REQUEST_MODEL = AttributeKey.stringKey("gen_ai.request.model");
    public static final AttributeKey<String> GEN_AI_RESPONSE_MODEL = AttributeKey.stringKey("gen_ai.response.model");
    public static final AttributeKey<String> DECISION = AttributeKey.stringKey("tokenbudget.decision");
    public static final AttributeKey<String> BINDING_BUDGET = AttributeKey.stringKey("tokenbudget.binding_budget");
    public static final AttributeKey<String> DEMOTED_TO = AttributeKey.stringKey("tokenbudget.demoted_to");

    private static final Map<String, Attributes> STORE_OPERATIONS = Map.of(
            "reserve", Attributes.of(OPERATION, "reserve"),
            "settle", Attributes.of(OPERATION, "settle"),
            "release", Attributes.of(OPERATION, "release"));
    private static final BudgetTelemetry NOOP = new BudgetTelemetry(OpenTelemetry.noop());

    private final Meter meter;
    private final LongCounter tokens;
    private final LongCounter decisions;
    private final LongCounter alerts;
    private final DoubleHistogram storeLatency;
    private final Attributes[] decisionAttributes;

    private BudgetTelemetry(OpenTelemetry otel) {
        this.meter = otel.getMeter(SCOPE);
        this.tokens = meter.counterBuilder("tokenbudget.tokens").setUnit("{token}")
                .setDescription("Tokens settled, by budget and direction").build();
        this.decisions = meter.counterBuilder("tokenbudget.decisions").setUnit("{decision}")
                .setDescription("Admission decisions, by outcome and reason").build();
        this.alerts = meter.counterBuilder("tokenbudget.alerts").setUnit("{alert}")
                .setDescription("Thresholds crossed, by budget and threshold").build();
        this.storeLatency = meter.histogramBuilder("tokenbudget.store.latency").setUnit("s")
                .setDescription("Time a budget store call took, by operation").build();
        Decision.Outcome[] outcomes = Decision.Outcome.values();
        Decision.Reason[] reasons = Decision.Reason.values();
        this.decisionAttributes = new Attributes[outcomes.length * reasons.length];
        for (Decision.Outcome o : outcomes) {
            for (Decision.Reason r : reasons) {
                decisionAttributes[o.ordinal() * reasons.length + r.ordinal()] = Attributes.of(OUTCOME,
                        o.name().toLowerCase(Locale.ROOT), REASON, r.name().toLowerCase(Locale.ROOT));
            }
        }
    }

    public static BudgetTelemetry of(OpenTelemetry otel) {
        return new BudgetTelemetry(otel);
    }

    public static BudgetTelemetry noop() {
        return NOOP;
    }

    /** Registers the utilisation gauge, read from the engine's status at each collection. */
    public void observeUtilisation(Supplier<List<BudgetStatus>> status) {
        meter.gaugeBuilder("tokenbudget.utilization").setUnit("1")
                .setDescription("Highest utilisation of any window of a budget (1 = 100%)")
                .buildWithCallback(m -> {
                    for (BudgetStatus s : status.get()) {
                        m.record(s.utilisation(), Attributes.of(BUDGET, s.budgetId()));
                    }
                });
    }

    public void decision(Decision d) {
        if (this == NOOP) {
            return;
        }
        decisions.add(1, decisionAttributes[d.outcome().ordinal() * Decision.Reason.values().length
                + d.reason().ordinal()]);
    }

    /** Tokens charged to budgets by a settlement or an expired lease. */
    public void charged(List<String> budgetIds, long input, long output) {
        if (this == NOOP) {
            // nothing records: spare the hot path the attribute sets
            return;
        }
        for (String b : budgetIds) {
            if (b.startsWith("user:")) {
                continue;
            }
            tokens.add(input, Attributes.of(BUDGET, b, DIRECTION, "input"));
            tokens.add(output, Attributes.of(BUDGET, b, DIRECTION, "output"));
        }
    }

    public void storeCall(String operation, long nanos) {
        if (this == NOOP) {
            return;
        }
        Attributes a = STORE_OPERATIONS.get(operation);
        storeLatency.record(nanos / 1e9, a != null ? a : Attributes.of(OPERATION, operation));
    }

    public void event(BudgetEvent e) {
        if (e instanceof BudgetEvent.ThresholdCrossed c && !c.budgetId().startsWith("user:")) {
            alerts.add(1, Attributes.of(BUDGET, c.budgetId(), THRESHOLD, (long) c.percent()));
        }
    }

    /** Puts the decision on the request span: outcome, binding budget, demotion (as an event too). */
    public static void annotate(Span span, Ticket t) {
        Decision d = t.decision();
        span.setAttribute(DECISION, d.outcome().name().toLowerCase(Locale.ROOT));
        if (d.bindingBudget() != null) {
            span.setAttribute(BINDING_BUDGET, d.bindingBudget());
        }
        if (t.model() != null) {
            span.setAttribute(GEN_AI_REQUEST_MODEL, t.model());
        }
        if (d.directive() != null) {
            if (d.directive().model() != null) {
                span.setAttribute(DEMOTED_TO, d.directive().model());
            }
            span.addEvent("tokenbudget.degraded", Attributes.of(BINDING_BUDGET, String.valueOf(d.bindingBudget())));
        } else if (!d.admitted()) {
            span.addEvent("tokenbudget.rejected", Attributes.of(REASON, d.reason().name().toLowerCase(Locale.ROOT)));
        }
    }

    /** Puts the provider's reported usage on the request span with the GenAI attribute names. */
    public static void annotateUsage(Span span, TokenUsage usage, String responseModel) {
        span.setAttribute(GEN_AI_INPUT, usage.inputTokens());
        span.setAttribute(GEN_AI_OUTPUT, usage.outputTokens());
        if (responseModel != null) {
            span.setAttribute(GEN_AI_RESPONSE_MODEL, responseModel);
        }
    }
}
