package dev.tokenbudget.telemetry;

import dev.tokenbudget.engine.BudgetStatus;
import dev.tokenbudget.engine.Decision;
import dev.tokenbudget.engine.Ticket;
import dev.tokenbudget.event.BudgetEvent;
import dev.tokenbudget.usage.TokenUsage;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.trace.Span;

import java.util.List;
import java.util.Locale;
import java.util.function.Supplier;

/**
 * The engine's telemetry: metrics through one or more {@link BudgetMeters} (OpenTelemetry,
 * Micrometer, …; instrument names there), and on the request span the GenAI semantic conventions'
 * usage attributes and the budget decision.
 *
 * <p>Per-user budgets ({@code user:…}) never become metric attributes: their number is unbounded.
 */
public final class BudgetTelemetry {

    public static final String SCOPE = "dev.tokenbudget";

    static final AttributeKey<String> REASON = AttributeKey.stringKey(BudgetMeters.REASON);

    /** GenAI semantic-convention attribute names. */
    public static final AttributeKey<Long> GEN_AI_INPUT = AttributeKey.longKey("gen_ai.usage.input_tokens");
    public static final AttributeKey<Long> GEN_AI_OUTPUT = AttributeKey.longKey("gen_ai.usage.output_tokens");
    public static final AttributeKey<String> GEN_AI_REQUEST_MODEL = AttributeKey.stringKey("gen_ai.request.model");
    public static final AttributeKey<String> GEN_AI_RESPONSE_MODEL = AttributeKey.stringKey("gen_ai.response.model");
    public static final AttributeKey<String> DECISION = AttributeKey.stringKey("tokenbudget.decision");
    public static final AttributeKey<String> BINDING_BUDGET = AttributeKey.stringKey("tokenbudget.binding_budget");
    public static final AttributeKey<String> DEMOTED_TO = AttributeKey.stringKey("tokenbudget.demoted_to");

    private static final BudgetTelemetry NOOP = new BudgetTelemetry(new BudgetMeters[0]);

    private final BudgetMeters[] meters;

    private BudgetTelemetry(BudgetMeters[] meters) {
        this.meters = meters;
    }

    /** Metrics on OpenTelemetry's API. */
    public static BudgetTelemetry of(OpenTelemetry otel) {
        return of(List.of(BudgetMeters.openTelemetry(otel)));
    }

    /** Metrics recorded in every one of {@code meters}; none is {@link #noop()}. */
    public static BudgetTelemetry of(List<? extends BudgetMeters> meters) {
        return meters.isEmpty() ? NOOP : new BudgetTelemetry(meters.toArray(BudgetMeters[]::new));
    }

    public static BudgetTelemetry noop() {
        return NOOP;
    }

    /** Registers the utilisation gauge, read from the engine's status at each collection. */
    public void observeUtilisation(Supplier<List<BudgetStatus>> status) {
        for (BudgetMeters m : meters) {
            m.observeUtilisation(status);
        }
    }

    public void decision(Decision d) {
        for (BudgetMeters m : meters) {
            m.decision(d.outcome(), d.reason());
        }
    }

    /** Tokens charged to budgets by a settlement or an expired lease. */
    public void charged(List<String> budgetIds, long input, long output) {
        if (meters.length == 0) {
            return;
        }
        for (String b : budgetIds) {
            if (b.startsWith("user:")) {
                continue;
            }
            for (BudgetMeters m : meters) {
                m.tokens(b, input, output);
            }
        }
    }

    public void storeCall(String operation, long nanos) {
        for (BudgetMeters m : meters) {
            m.storeCall(operation, nanos);
        }
    }

    public void event(BudgetEvent e) {
        if (e instanceof BudgetEvent.ThresholdCrossed c && !c.budgetId().startsWith("user:")) {
            for (BudgetMeters m : meters) {
                m.alert(c.budgetId(), c.percent());
            }
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
