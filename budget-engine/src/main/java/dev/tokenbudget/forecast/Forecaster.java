package dev.tokenbudget.forecast;

import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneId;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Burn-down forecasts from daily history. Pure and deterministic: the time of the forecast, the
 * history and the window all come in as arguments, so a forecast can be replayed and backtested.
 * Thread-safe (stateless). The method is documented in docs/forecast.md.
 */
public final class Forecaster {

    private final ForecastParams params;

    public Forecaster() {
        this(ForecastParams.DEFAULTS);
    }

    public Forecaster(ForecastParams params) {
        this.params = Objects.requireNonNull(params, "params");
    }

    /**
     * Projects a fixed span: a calendar window (month, week or day in {@code zone}, any length)
     * or any window with a known end.
     *
     * @param history complete days before the day of {@code now} (in {@code zone}); older days may be cut off
     * @param today   tokens used so far on the day of {@code now}
     * @param now     the moment of the forecast
     * @param start   start of the window
     * @param end     end of the window (exclusive)
     * @param used    tokens used in the window up to {@code now} (the store's count)
     * @param limit   the limit, or -1
     */
    public Forecast span(DailySeries history, long today, Instant now, ZoneId zone, Instant start, Instant end,
                         long used, long limit) {
        return span(history, today, IntradayProfile.uniform(), now, zone, start, end, used, limit);
    }

    /** As {@link #span(DailySeries, long, Instant, ZoneId, Instant, Instant, long, long)}, with how a day's usage spreads over its hours. */
    public Forecast span(DailySeries history, long today, IntradayProfile profile, Instant now, ZoneId zone,
                         Instant start, Instant end, long used, long limit) {
        LocalDate day = now.atZone(zone).toLocalDate();
        LocalDate last = end.minusNanos(1).atZone(zone).toLocalDate();
        int days = (int) Math.max(1, ChronoUnit.DAYS.between(day, last) + 1);
        int elapsed = (int) Math.max(0, ChronoUnit.DAYS.between(start.atZone(zone).toLocalDate(), day));
        Ensemble.Result e = Ensemble.combine(history.slice(history.start(), day), days, elapsed, params);
        Rate rate = rate(e, today, profile, now, zone);
        Instant from = now.isAfter(start) ? now : start;
        List<Segment> segs = segments(rate, profile, zone, from, end);
        return build(e, rate, segs, history, day, now, used, limit, used);
    }

    /**
     * Projects a rolling window: {@code expected} and its bands are the consumption over the next
     * full window length; the exhaustion time is when the rolling sum (past usage rolling off,
     * projected usage coming in) first reaches the limit within that length. Day resolution for
     * the roll-off; windows shorter than a day are refused (a burn-down says nothing there).
     *
     * @param history complete days before the day of {@code now}; must reach back over {@code length}
     * @param used    tokens in the rolling window now (the store's count)
     */
    public Forecast rolling(DailySeries history, long today, Instant now, ZoneId zone, Duration length, long used,
                            long limit) {
        return rolling(history, today, IntradayProfile.uniform(), now, zone, length, used, limit);
    }

    /** As {@link #rolling(DailySeries, long, Instant, ZoneId, Duration, long, long)}, with an intra-day profile. */
    public Forecast rolling(DailySeries history, long today, IntradayProfile profile, Instant now, ZoneId zone,
                            Duration length, long used, long limit) {
        if (length.compareTo(Duration.ofDays(1)) < 0) {
            throw new IllegalArgumentException("a burn-down forecast needs a window of at least a day, was "
                    + length);
        }
        LocalDate day = now.atZone(zone).toLocalDate();
        Instant end = now.plus(length);
        int days = (int) (ChronoUnit.DAYS.between(day, end.atZone(zone).toLocalDate()) + 1);
        Ensemble.Result e = Ensemble.combine(history.slice(history.start(), day), days, 0, params);
        Rate rate = rate(e, today, profile, now, zone);
        List<Segment> segs = segments(rate, profile, zone, now, end);
        Forecast f = build(e, rate, segs, history, day, now, 0, limit, used);
        Instant exhaustion = limit > 0 ? rollingExhaustion(history, today, now, zone, length, segs, used, limit)
                : null;
        return new Forecast(f.at(), used, limit, f.expected(), f.lower80(), f.upper80(), f.lower95(), f.upper95(),
                exhaustion, f.stage(), f.historyDays(), f.dailyLevel(), f.lastShift(), f.trendPercent(), f.drivers());
    }

    /**
     * The model's daily rate, with today's pace blended in; with no complete day yet, today's
     * usage scaled to a whole day.
     */
    private record Rate(DailyModel model, double[] path, double coldLevel, double todayFactor, LocalDate today,
                        double sigma, double levelSigma) {
        double expected(LocalDate d) {
            int k = (int) Math.min(path.length - 1, Math.max(0, ChronoUnit.DAYS.between(today, d)));
            double base = model.stage() == DailyModel.Stage.NO_HISTORY ? coldLevel : path[k];
            return d.equals(today) ? base * todayFactor : base;
        }
    }

    private Rate rate(Ensemble.Result e, long today, IntradayProfile profile, Instant now, ZoneId zone) {
        DailyModel m = e.atCut().model();
        LocalDate d = now.atZone(zone).toLocalDate();
        Instant s = d.atStartOfDay(zone).toInstant();
        double elapsed = profile.share(zone, s, now);
        if (m.stage() != DailyModel.Stage.NO_HISTORY) {
            // today's pace so far against the model's, believed in proportion to how much of the
            // day has passed: a burst day is seen by noon, one busy hour is not a burst
            double soFar = e.path()[0] * elapsed;
            double factor = 1;
            if (soFar > 0 && elapsed > 0) {
                double w = elapsed / (elapsed + params.todayWeight());
                factor = Math.max(0, 1 + (today / soFar - 1) * w);
            }
            return new Rate(m, e.path(), 0, factor, d, m.sigma(), m.levelSigma());
        }
        // under an hour's share of a first day says too little: no projection beyond what is used
        double level = today > 0 && elapsed >= 1.0 / 24 ? today / elapsed : 0;
        return new Rate(m, e.path(), level, 1, d, 1.0, 1.0);
    }

    /** The part of each day from {@code from} to {@code end} and its expected usage. */
    private record Segment(Instant start, Instant end, double mean) {
    }

    private static List<Segment> segments(Rate rate, IntradayProfile profile, ZoneId zone, Instant from,
                                          Instant end) {
        List<Segment> out = new ArrayList<>();
        if (!from.isBefore(end)) {
            return out;
        }
        LocalDate d = from.atZone(zone).toLocalDate();
        while (true) {
            Instant ds = d.atStartOfDay(zone).toInstant();
            Instant de = d.plusDays(1).atStartOfDay(zone).toInstant();
            if (!ds.isBefore(end)) {
                break;
            }
            Instant s = ds.isBefore(from) ? from : ds;
            Instant e = de.isAfter(end) ? end : de;
            if (s.isBefore(e)) {
                double frac = profile.share(zone, s, e);
                out.add(new Segment(s, e, rate.expected(d) * frac));
            }
            d = d.plusDays(1);
        }
        return out;
    }

    private Forecast build(Ensemble.Result e, Rate rate, List<Segment> segs, DailySeries history, LocalDate day,
                           Instant now, long base, long limit, long used) {
        DailyModel m = e.atCut().model();
        int h = segs.size();
        double mean = 0;
        double noise = 0;
        for (Segment s : segs) {
            mean += s.mean();
            noise += s.mean() * s.mean();
        }
        // outages and bursts to come (taken out of what the level learns), each day on its own
        double events = noise * e.atCut().bursts().eventVariance();
        noise *= rate.sigma() * rate.sigma();
        // level error is shared by every remaining day; the level's drift grows with the horizon:
        // sum_i sum_j mu_i mu_j min(i, j) = sum_k (sum_{i >= k} mu_i)^2
        double drift = 0;
        double tail = mean;
        for (int k = 0; k < h; k++) {
            drift += tail * tail;
            tail -= segs.get(k).mean();
        }
        double var = noise + mean * mean * rate.levelSigma() * rate.levelSigma()
                + drift * (params.drift() * params.drift() + m.jumpVariance());
        boolean fresh = e.unjudged() || !m.shifts().isEmpty()
                && !m.shifts().get(m.shifts().size() - 1).isBefore(day.minusDays(Bands.FRESH_SHIFT_DAYS));
        double[] q = e.ratios().length > 0 ? Bands.empirical(e.ratios(), base + mean, base, var, events, h, fresh)
                : Bands.parametric(mean, var + events);
        Instant exhaustion = null;
        if (limit > 0) {
            exhaustion = spanExhaustion(segs, now, used, limit);
        }
        LocalDate lastShift = m.shifts().isEmpty() ? null : m.shifts().get(m.shifts().size() - 1);
        double level = m.stage() == DailyModel.Stage.NO_HISTORY ? rate.coldLevel() : m.level();
        return new Forecast(now, used, limit, base + mean, base + q[1], base + q[2], base + q[0], base + q[3],
                exhaustion, m.stage(), m.days(), level, lastShift, Trend.weekOverWeek(history, day),
                Drivers.of(e, day));
    }

    private static Instant spanExhaustion(List<Segment> segs, Instant now, long used, long limit) {
        if (used >= limit) {
            return now;
        }
        double cum = used;
        for (Segment s : segs) {
            if (cum + s.mean() >= limit && s.mean() > 0) {
                long ms = Duration.between(s.start(), s.end()).toMillis();
                return s.start().plusMillis((long) (ms * (limit - cum) / s.mean()));
            }
            cum += s.mean();
        }
        return null;
    }

    /**
     * First moment within the next window length at which the rolling sum reaches the limit:
     * each past day's usage leaves the window one length after that day ends (today's, one length
     * after now); checked at each segment boundary and interpolated within the segment.
     */
    private static Instant rollingExhaustion(DailySeries history, long today, Instant now, ZoneId zone,
                                             Duration length, List<Segment> segs, long used, long limit) {
        if (used >= limit) {
            return now;
        }
        LocalDate d = now.atZone(zone).toLocalDate();
        List<Instant> leaves = new ArrayList<>();
        List<Long> amounts = new ArrayList<>();
        long days = length.toDays() + 2;
        for (LocalDate p = d.minusDays(days); p.isBefore(d); p = p.plusDays(1)) {
            Instant leave = p.plusDays(1).atStartOfDay(zone).toInstant().plus(length);
            if (leave.isAfter(now) && history.on(p) > 0) {
                leaves.add(leave);
                amounts.add(history.on(p));
            }
        }
        leaves.add(now.plus(length));
        amounts.add(today);
        double incoming = 0;
        for (Segment s : segs) {
            double before = incoming;
            incoming += s.mean();
            double atEnd = incoming + remaining(leaves, amounts, s.end());
            if (atEnd >= limit) {
                double atStart = before + remaining(leaves, amounts, s.start());
                double need = limit - atStart;
                double gain = atEnd - atStart;
                long ms = Duration.between(s.start(), s.end()).toMillis();
                return gain <= 0 || need <= 0 ? s.start() : s.start().plusMillis((long) (ms * need / gain));
            }
        }
        return null;
    }

    private static long remaining(List<Instant> leaves, List<Long> amounts, Instant t) {
        long r = 0;
        for (int i = 0; i < leaves.size(); i++) {
            if (leaves.get(i).isAfter(t)) {
                r += amounts.get(i);
            }
        }
        return r;
    }
}
