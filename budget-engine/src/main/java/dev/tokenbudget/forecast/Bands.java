package dev.tokenbudget.forecast;

/**
 * The 80 % and 95 % bands of a forecast: from the method's own out-of-sample errors where the
 * budget's history allows (split conformal, widened for the few independent origins and for what
 * they cannot have seen), else from the model's parametric variance as a log-normal.
 * docs/forecast.md, "Bands".
 */
final class Bands {

    /** Standard normal quantiles of the 80% and 95% two-sided bands. */
    static final double Z80 = 1.2815515655446004;
    static final double Z95 = 1.959963984540054;

    /** Share of the model's parametric variance added to the empirical spread of the bands. */
    static final double PARAMETRIC_SHARE = 0.25;

    /** A level shift this recent is not yet in the errors of past origins. */
    static final int FRESH_SHIFT_DAYS = 14;

    /** Largest log-space spread of the remaining usage. */
    static final double MAX_LOG_SIGMA = 2.0;

    private Bands() {
    }

    /**
     * The 2.5%, 10%, 90% and 97.5% quantiles of the remaining usage from the ratios of actual to
     * forecast window totals the method achieved at past origins, less {@code base} (never below 0);
     * {@code var} is the parametric variance of the remaining usage, {@code events} the variance of the outages
     * and bursts to come (added whole: 40 origins rarely hold enough of them), {@code days} the days ahead,
     * {@code freshShift} whether the level shifted within the last {@link #FRESH_SHIFT_DAYS} days.
     */
    static double[] empirical(double[] sortedRatios, double total, long base, double var, double events, int days,
                              boolean freshShift) {
        int n = sortedRatios.length;
        double[] lr = new double[n];
        for (int i = 0; i < n; i++) {
            lr[i] = Math.log(Math.max(1e-9, sortedRatios[i]));
        }
        double c = quantile(lr, 0.5);
        double ss = 0;
        for (double x : lr) {
            ss += (x - c) * (x - c);
        }
        double se = Math.sqrt(ss / Math.max(1, n - 1));
        // the parametric spread of the remaining usage, as a share of the total
        double sp = total > 0 ? Math.sqrt(var) / total : 0;
        // the effective number of independent origins: those a horizon apart do not overlap
        double nEff = Math.max(3, n * 7.0 / Math.max(7, days));
        double t80 = t(Z80, nEff - 1);
        double t95 = t(Z95, nEff - 1);
        // a quarter of the model's own variance stands for what the recent origins cannot have
        // seen (a shift or a launch after the forecast); all of it right after a shift, which
        // none of the origins' errors reflect yet
        double sv2 = total > 0 ? Math.min(MAX_LOG_SIGMA * MAX_LOG_SIGMA, events / (total * total)) : 0;
        // capped as the parametric band is: on a series erratic enough for the cap to matter wider bands say
        // nothing more, and past it exp(c + t95 * s) overflows to an infinite bound
        double s = Math.min(MAX_LOG_SIGMA, Math.sqrt(se * se + (freshShift ? 1 : PARAMETRIC_SHARE) * sp * sp + sv2));
        double[] z = {-t95, -t80, t80, t95};
        double[] out = new double[4];
        for (int i = 0; i < 4; i++) {
            out[i] = Math.max(0, total * Math.exp(c + z[i] * s) - base);
        }
        // the bands are centred on the past errors' median (c), so a model whose every origin fell
        // short would put both bounds above its own expectation; a band always holds the expectation
        double rest = Math.max(0, total - base);
        out[1] = Math.min(out[1], rest);
        out[0] = Math.min(out[0], out[1]);
        out[2] = Math.max(out[2], rest);
        out[3] = Math.max(out[3], out[2]);
        return out;
    }

    /** Student-t quantile from the normal one (Cornish-Fisher expansion, good from 3 degrees of freedom). */
    static double t(double z, double dof) {
        double v = Math.max(2, dof);
        return z + (z * z * z + z) / (4 * v) + (5 * Math.pow(z, 5) + 16 * z * z * z + 3 * z) / (96 * v * v);
    }

    /** Type-7 (linear interpolation) quantile of sorted values. */
    static double quantile(double[] sorted, double q) {
        double h = (sorted.length - 1) * q;
        int lo = (int) Math.floor(h);
        int hi = Math.min(sorted.length - 1, lo + 1);
        return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
    }

    /** 2.5%, 10%, 90% and 97.5% quantiles of a log-normal with this mean and variance (usage is never negative). */
    static double[] parametric(double mean, double var) {
        if (mean <= 0) {
            return new double[4];
        }
        // capped so that the mean stays inside the 80% band (it leaves it past sl = 2.56): on
        // series this erratic, wider bands would say nothing more
        double sl = Math.min(MAX_LOG_SIGMA, Math.sqrt(Math.log(1 + var / (mean * mean))));
        double ml = Math.log(mean) - sl * sl / 2;
        return new double[] {Math.exp(ml - Z95 * sl), Math.exp(ml - Z80 * sl), Math.exp(ml + Z80 * sl),
                Math.exp(ml + Z95 * sl)};
    }
}
