package dev.tokenbudget.forecast;

/**
 * When a forecast says "projected to exceed the limit": which point of the forecast's
 * distribution has to lie above the limit. The predictive alert ({@code AlertEvaluator}) uses
 * {@link #DEFAULT}; {@link Backtest#alerts} scores every rule so that the choice rests on measured
 * precision and recall (docs/forecast.md, "Predictive alert").
 */
public enum AlertRule {
    /** The 80 % band's lower bound above the limit: the model is 90 % sure. */
    LOWER80("80% band above the limit"),
    /** Halfway between the 80 % band's lower bound and the expected total: about 70 % sure. */
    LIKELY("lower half of the 80% band above the limit"),
    /** The expected total above the limit: even odds. */
    EXPECTED("expected above the limit"),
    /** The 80 % band's upper bound above the limit: a 10 % chance or more. */
    UPPER80("80% band reaches the limit");

    /** The rule the predictive alert uses. */
    public static final AlertRule DEFAULT = EXPECTED;

    private final String description;

    AlertRule(String description) {
        this.description = description;
    }

    public String description() {
        return description;
    }

    /** The forecast's total this rule compares with the limit. */
    public double point(Forecast f) {
        return switch (this) {
            case LOWER80 -> f.lower80();
            case LIKELY -> (f.lower80() + f.expected()) / 2;
            case EXPECTED -> f.expected();
            case UPPER80 -> f.upper80();
        };
    }

    /** Whether the forecast, under this rule, projects the window's total above {@code limit}. */
    public boolean fires(Forecast f, double limit) {
        return point(f) > limit;
    }
}
