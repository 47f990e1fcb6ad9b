package dev.tokenbudget.alert.sink;

import dev.tokenbudget.alert.Alert;

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Locale;

/** How people-facing sinks (Slack, e-mail) write numbers and times. */
final class Format {

    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm 'UTC'", Locale.ROOT)
            .withZone(ZoneOffset.UTC);

    private Format() {
    }

    /** 1234567 as {@code 1.23M}, 45300 as {@code 45.3k}. */
    static String tokens(long n) {
        double a = Math.abs((double) n);
        if (a >= 1e9) {
            return String.format(Locale.ROOT, "%.2fB", n / 1e9);
        }
        if (a >= 1e6) {
            return String.format(Locale.ROOT, "%.2fM", n / 1e6);
        }
        if (a >= 1e4) {
            return String.format(Locale.ROOT, "%.1fk", n / 1e3);
        }
        return Long.toString(n);
    }

    static String time(Instant t) {
        return t == null ? "-" : TIME.format(t);
    }

    static String used(Alert a) {
        return tokens(a.used()) + " of " + tokens(a.limit()) + " " + a.dimension().label() + " tokens ("
                + String.format(Locale.ROOT, "%.1f%%", a.percent()) + ")";
    }

    static String projection(Alert a) {
        if (a.projection() == null) {
            return "not enough history yet";
        }
        Alert.Projection p = a.projection();
        return tokens(p.expected()) + " (80%: " + tokens(p.lower80()) + " to " + tokens(p.upper80()) + "; 95%: "
                + tokens(p.lower95()) + " to " + tokens(p.upper95()) + ")";
    }

    static String exhaustion(Alert a) {
        return a.exhaustion() == null ? "not before the window ends" : time(a.exhaustion());
    }

    static String trend(Alert a) {
        if (a.trendPercent() == null) {
            return "no usage in the week before";
        }
        return String.format(Locale.ROOT, "%+.0f%% against the previous 7 days", a.trendPercent());
    }
}
