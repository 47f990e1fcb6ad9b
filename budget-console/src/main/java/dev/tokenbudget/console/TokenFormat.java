package dev.tokenbudget.console;

import java.util.Locale;

/** Token counts for people: 950, 12.5k, 412M, 1.2B. */
final class TokenFormat {

    private TokenFormat() {
    }

    static String of(long n) {
        long a = Math.abs(n);
        if (a >= 1_000_000_000L) {
            return trim(n / 1e9) + "B";
        }
        if (a >= 1_000_000L) {
            return trim(n / 1e6) + "M";
        }
        if (a >= 1_000L) {
            return trim(n / 1e3) + "k";
        }
        return Long.toString(n);
    }

    private static String trim(double x) {
        double a = Math.abs(x);
        String s = String.format(Locale.ROOT, a >= 100 ? "%.0f" : a >= 10 ? "%.1f" : "%.2f", x);
        return s.contains(".") ? s.replaceAll("0+$", "").replaceAll("\\.$", "") : s;
    }
}
