package dev.tokenbudget.telemetry;

import dev.tokenbudget.engine.BudgetStatus;
import dev.tokenbudget.engine.Decision;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.metrics.DoubleHistogram;
import io.opentelemetry.api.metrics.LongCounter;
import io.opentelemetry.api.metrics.Meter;

import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Supplier;

/** {@link BudgetMeters} on the OpenTelemetry metrics API, with the decision attribute sets built once. */
final class OpenTelemetryMeters implements BudgetMeters {

    static final AttributeKey<String> BUDGET_KEY = AttributeKey.stringKey(BUDGET);
    static final AttributeKey<String> DIRECTION_KEY = AttributeKey.stringKey(DIRECTION);
    static final AttributeKey<String> OUTCOME_KEY = AttributeKey.stringKey(OUTCOME);
    static final AttributeKey<String> REASON_KEY = AttributeKey.stringKey(REASON);
    static final AttributeKey<Long> THRESHOLD_KEY = AttributeKey.longKey(THRESHOLD);
    static final AttributeKey<String> OPERATION_KEY = AttributeKey.stringKey(OPERATION);

    private static final Map<String, Attributes> STORE_OPERATIONS = Map.of(
            "reserve", Attributes.of(OPERATION_KEY, "reserve"),
            "settle", Attributes.of(OPERATION_KEY, "settle"),
            "release", Attributes.of(OPERATION_KEY, "release"));

    private final Meter meter;
    private final LongCounter tokens;
    private final LongCounter decisions;
    private final LongCounter alerts;
    private final DoubleHistogram storeLatency;
    private final Attributes[] decisionAttributes;

    OpenTelemetryMeters(OpenTelemetry otel) {
        this.meter = otel.getMeter(BudgetTelemetry.SCOPE);
        this.tokens = meter.counterBuilder(TOKENS).setUnit("{token}")
                .setDescription("Tokens settled, by budget and direction").build();
        this.decisions = meter.counterBuilder(DECISIONS).setUnit("{decision}")
                .setDescription("Admission decisions, by outcome and reason").build();
        this.alerts = meter.counterBuilder(ALERTS).setUnit("{alert}")
                .setDescription("Thresholds crossed, by budget and threshold").build();
        this.storeLatency = meter.histogramBuilder(STORE_LATENCY).setUnit("s")
                .setDescription("Time a budget store call took, by operation").build();
        Decision.Outcome[] outcomes = Decision.Outcome.values();
        Decision.Reason[] reasons = Decision.Reason.values();
        this.decisionAttributes = new Attributes[outcomes.length * reasons.length];
        for (Decision.Outcome o : outcomes) {
            for (Decision.Reason r : reasons) {
                decisionAttributes[o.ordinal() * reasons.length + r.ordinal()] = Attributes.of(OUTCOME_KEY,
                        o.name().toLowerCase(Locale.ROOT), REASON_KEY, r.name().toLowerCase(Locale.ROOT));
            }
        }
    }

    @Override
    public void tokens(String budgetId, long input, long output) {
        tokens.add(input, Attributes.of(BUDGET_KEY, budgetId, DIRECTION_KEY, "input"));
        tokens.add(output, Attributes.of(BUDGET_KEY, budgetId, DIRECTION_KEY, "output"));
    }

    @Override
    public void decision(Decision.Outcome outcome, Decision.Reason reason) {
        decisions.add(1, decisionAttributes[outcome.ordinal() * Decision.Reason.values().length + reason.ordinal()]);
    }

    @Override
    public void alert(String budgetId, int percent) {
        alerts.add(1, Attributes.of(BUDGET_KEY, budgetId, THRESHOLD_KEY, (long) percent));
    }

    @Override
    public void storeCall(String operation, long nanos) {
        Attributes a = STORE_OPERATIONS.get(operation);
        storeLatency.record(nanos / 1e9, a != null ? a : Attributes.of(OPERATION_KEY, operation));
    }

    @Override
    public void observeUtilisation(Supplier<List<BudgetStatus>> status) {
        meter.gaugeBuilder(UTILIZATION).setUnit("1")
                .setDescription("Highest utilisation of any window of a budget (1 = 100%)")
                .buildWithCallback(m -> {
                    for (BudgetStatus s : status.get()) {
                        m.record(s.utilisation(), Attributes.of(BUDGET_KEY, s.budgetId()));
                    }
                });
    }
}
