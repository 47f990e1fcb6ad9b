package dev.tokenbudget.config;

import dev.tokenbudget.budget.Limits;
import dev.tokenbudget.budget.WindowLimit;
import dev.tokenbudget.window.Period;
import dev.tokenbudget.window.WindowSpec;

import java.time.DateTimeException;
import java.time.Duration;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Reads a budget's (or key's) {@code windows:}: each window's period, rolling length, time zone,
 * name and {@code limits:}. Windows without a zone take {@code defaults.zone}.
 */
final class WindowConfigReader {

    private static final Set<String> WINDOW = Set.of("period", "length", "zone", "name", "limits");
    private static final Set<String> LIMITS = Set.of("input", "output", "total");

    private final List<ConfigError> errors;
    private ZoneId defaultZone = ZoneId.of("UTC");

    WindowConfigReader(List<ConfigError> errors) {
        this.errors = errors;
    }

    /** Reads {@code defaults.zone}, the zone of calendar windows that name none. */
    void defaultZone(ConfigNode n) {
        defaultZone = zone(n, defaultZone);
    }

    List<WindowLimit> windows(ConfigNode n, boolean required) {
        List<WindowLimit> out = new ArrayList<>();
        if (n.isMissing()) {
            if (required) {
                n.error("is required: at least one window with limits (e.g. period: month, limits: {total: 1M})");
            }
            return out;
        }
        List<ConfigNode> items = n.list();
        if (items.isEmpty() && n.raw().isArray()) {
            n.error("must hold at least one window");
        }
        Set<String> names = new HashSet<>();
        for (ConfigNode w : items) {
            WindowLimit wl = window(w);
            if (wl != null) {
                if (!names.add(wl.window().name())) {
                    w.error("a second window named '" + wl.window().name() + "' in this budget; give one a "
                            + "distinct 'name'");
                }
                out.add(wl);
            }
        }
        return out;
    }

    private WindowLimit window(ConfigNode w) {
        if (!w.expectObject(WINDOW)) {
            if (w.isMissing()) {
                w.error("must be a window, was empty");
            }
            return null;
        }
        Period period = w.get("period").isMissing() ? null
                : w.get("period").enumValue(Period.class, null, s -> s);
        if (w.get("period").isMissing()) {
            w.get("period").error("is required: month, week, day or rolling");
        }
        ZoneId zone = zone(w.get("zone"), defaultZone);
        Duration length = w.get("length").duration(null);
        WindowSpec spec = null;
        if (period == Period.ROLLING) {
            if (length == null && w.get("length").isMissing()) {
                w.get("length").error("is required for a rolling window (e.g. 7d or 24h)");
            } else if (length != null && length.toMinutes() < 1) {
                w.get("length").error("must be at least 1m, was " + w.get("length").raw().asText());
            } else if (length != null) {
                spec = WindowSpec.rolling(length);
            }
            if (w.has("zone")) {
                w.get("zone").error("a rolling window has no time zone");
            }
        } else if (period != null) {
            if (w.has("length")) {
                w.get("length").error("only a rolling window has a length; a " + period.name().toLowerCase()
                        + " window's length is the calendar's");
            }
            spec = WindowSpec.calendar(period, zone);
        }
        String name = w.get("name").string(null);
        if (name != null && !ConfigLoader.ID.matcher(name).matches()) {
            w.get("name").error("must be 1-64 of A-Z a-z 0-9 . _ -, was '" + name + "'");
            name = null;
        }
        Limits limits = limits(w.get("limits"));
        if (spec == null || limits == null) {
            return null;
        }
        return new WindowLimit(name == null ? spec : spec.named(name), limits);
    }

    /** A {@code limits:} section: at least one of input, output, total; null (and errors) when unusable. */
    Limits limits(ConfigNode n) {
        if (n.isMissing()) {
            n.error("is required: at least one of input, output, total");
            return null;
        }
        if (!n.expectObject(LIMITS)) {
            return null;
        }
        int before = errors.size();
        long in = n.get("input").positiveTokens();
        long out = n.get("output").positiveTokens();
        long total = n.get("total").positiveTokens();
        if (errors.size() > before) {
            return null;
        }
        if (in < 0 && out < 0 && total < 0) {
            n.error("must limit at least one of input, output, total");
            return null;
        }
        return new Limits(in, out, total);
    }

    private static ZoneId zone(ConfigNode n, ZoneId def) {
        String z = n.string(null);
        if (z == null) {
            return def;
        }
        try {
            return ZoneId.of(z);
        } catch (DateTimeException e) {
            n.error("must be an IANA time zone such as Europe/Berlin or UTC, was '" + z + "'");
            return def;
        }
    }
}
