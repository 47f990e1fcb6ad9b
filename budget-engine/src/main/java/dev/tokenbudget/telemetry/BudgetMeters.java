package dev.tokenbudget.telemetry;

import dev.tokenbudget.engine.BudgetStatus;
import dev.tokenbudget.engine.Decision;

import java.util.List;
import java.util.function.Supplier;

/**
 * Where the engine's metrics are recorded: OpenTelemetry ({@link #openTelemetry}), or a host's own
 * metrics library (the Spring Cloud Gateway adapter bridges them to Micrometer). Every
 * implementation records the same instruments under the same names and attribute keys (the
 * constants below), so that dashboards do not depend on the host:
 *
 * <ul>
 *   <li>{@value #TOKENS} — counter of tokens settled, by {@value #BUDGET} and {@value #DIRECTION}
 *       ({@code input} / {@code output});</li>
 *   <li>{@value #DECISIONS} — counter of admission decisions, by {@value #OUTCOME} and {@value #REASON};</li>
 *   <li>{@value #ALERTS} — counter of thresholds crossed, by {@value #BUDGET} and {@value #THRESHOLD};</li>
 *   <li>{@value #STORE_LATENCY} — histogram of store call times in seconds, by {@value #OPERATION};</li>
 *   <li>{@value #UTILIZATION} — gauge of a budget's highest window utilisation (1 = 100 %), by {@value #BUDGET}.</li>
 * </ul>
 *
 * <p>{@link BudgetTelemetry} calls these on the request path, already without per-user budgets
 * (their number is unbounded): implementations must not block.
 */
public interface BudgetMeters {

    String TOKENS = "tokenbudget.tokens";
    String DECISIONS = "tokenbudget.decisions";
    String ALERTS = "tokenbudget.alerts";
    String STORE_LATENCY = "tokenbudget.store.latency";
    String UTILIZATION = "tokenbudget.utilization";

    String BUDGET = "tokenbudget.budget";
    String DIRECTION = "tokenbudget.direction";
    String OUTCOME = "tokenbudget.outcome";
    String REASON = "tokenbudget.reason";
    String THRESHOLD = "tokenbudget.threshold";
    String OPERATION = "tokenbudget.store.operation";

    /** Tokens charged to one budget by a settlement or an expired lease. */
    void tokens(String budgetId, long input, long output);

    void decision(Decision.Outcome outcome, Decision.Reason reason);

    /** A threshold ({@code percent} of a limit) crossed by a budget. */
    void alert(String budgetId, int percent);

    void storeCall(String operation, long nanos);

    /** Registers the utilisation gauge, read from the engine's status whenever it is collected. */
    void observeUtilisation(Supplier<List<BudgetStatus>> status);

    /** The OpenTelemetry instruments, on the API only: the host configures the SDK and its exporters. */
    static BudgetMeters openTelemetry(io.opentelemetry.api.OpenTelemetry otel) {
        return new OpenTelemetryMeters(otel);
    }
}
