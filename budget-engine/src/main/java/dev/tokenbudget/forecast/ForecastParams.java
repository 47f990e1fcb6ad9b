package dev.tokenbudget.forecast;

/**
 * Tuning of the forecaster. The defaults were chosen by backtest on the generated series in
 * {@code examples/data} (docs/forecast.md); they are not meant to be set per budget.
 *
 * @param alpha        level smoothing per day (half-life ln 0.5 / ln(1 - alpha) days)
 * @param weekDecay    weight of a week-old observation in the weekday factors, relative to this week's
 * @param factorShrink weeks of weight below which a weekday factor is pulled towards 1 (cold start)
 * @param cusumK       CUSUM allowance in standard deviations (shifts smaller than ~2k are left to the level)
 * @param cusumH       CUSUM alarm threshold in standard deviations
 * @param huber        residuals are clipped to this many standard deviations (one odd day is no shift)
 * @param minSigma     floor of the relative day noise
 * @param priorSigma   relative day noise assumed before any day is seen
 * @param priorDays    how many days the prior noise weighs against measured residuals
 * @param noiseWindow  days over which the noise estimate averages, at most
 * @param drift        floor of the relative standard deviation of the level's random walk per day ahead
 * @param todayWeight  how much of a day must pass before today's pace counts half against the model's
 */
public record ForecastParams(double alpha, double weekDecay, double factorShrink, double cusumK, double cusumH,
                             double huber, double minSigma, double priorSigma, double priorDays, int noiseWindow,
                             double drift, double todayWeight) {

    public static final ForecastParams DEFAULTS = new ForecastParams(0.1, 0.97, 3.0, 0.75, 4.0, 3.0, 0.03, 0.35, 4,
            28, 0.015, 0.5);
}
