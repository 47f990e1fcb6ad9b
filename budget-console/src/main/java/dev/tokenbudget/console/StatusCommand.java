package dev.tokenbudget.console;

import com.fasterxml.jackson.databind.JsonNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code tokenbudget status}: the budget tree of a running gateway as a table, from its admin API. */
@Command(name = "status", mixinStandardHelpOptions = true,
        description = "Show the budget tree of a running gateway: usage, utilisation bars, state and projections, "
                + "read from its admin API.")
final class StatusCommand implements Callable<Integer> {

    static final String URL_ENV = "TOKENBUDGET_ADMIN_URL";
    static final String TOKEN_ENV = "TOKENBUDGET_ADMIN_TOKEN";
    private static final int BAR = 20;
    private static final DateTimeFormatter WHEN = DateTimeFormatter.ofPattern("MMM d HH:mm", Locale.ROOT);

    @Option(names = "--url", paramLabel = "URL",
            description = "Admin API base URL (default: $" + URL_ENV + " or http://127.0.0.1:8081).")
    private String url;

    @Option(names = "--token", paramLabel = "TOKEN",
            description = "Admin token (default: $" + TOKEN_ENV + ", which keeps it out of shell history).")
    private String token;

    @Option(names = "--zone", paramLabel = "ZONE", description = "Time zone for times shown (default: the system's).")
    private ZoneId zone = ZoneId.systemDefault();

    @Spec
    private CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        String base = url != null ? url : env(URL_ENV, "http://127.0.0.1:8081");
        String t = token != null ? token : env(TOKEN_ENV, null);
        if (t == null || t.isBlank()) {
            return Failure.usage(err, "status", "no admin token: set " + TOKEN_ENV + " (printed by the gateway at "
                    + "start) or pass --token");
        }
        JsonNode list;
        try {
            list = AdminClient.get(base, "/v1/budgets", t.strip(), TOKEN_ENV);
            if (!list.path("budgets").isArray()) {
                throw new AdminClient.Failure(base + "/v1/budgets answered JSON without a budgets list; is this the "
                        + "tokenbudget admin port?");
            }
        } catch (AdminClient.Failure e) {
            return Failure.report(err, "status", e.getMessage());
        }
        print(out, base, list);
        out.flush();
        return 0;
    }

    static String env(String name, String dflt) {
        String v = System.getenv(name);
        return v == null || v.isBlank() ? dflt : v;
    }


    private void print(PrintWriter out, String base, JsonNode list) {
        out.printf("tokenbudget status  %s  at %s%n%n", base, when(list.path("at").asText()));
        String fmt = "%-28s %-9s %-15s %-20s %-28s %s%n";
        out.printf(fmt, "BUDGET", "STATE", "WINDOW", "USED / LIMIT", "UTILISATION", "PROJECTED (END OF WINDOW)");
        int n = 0;
        for (JsonNode b : list.path("budgets")) {
            n++;
            String name = "  ".repeat(b.path("depth").asInt(0)) + b.path("id").asText();
            boolean first = true;
            for (JsonNode w : b.path("windows")) {
                out.printf(fmt, first ? clip(name, 28) : "", first ? b.path("state").asText() : "",
                        clip(w.path("key").asText(), 15), usedOfLimit(w), bar(w), projection(w));
                first = false;
            }
            if (first) {
                out.printf(fmt, clip(name, 28), b.path("state").asText(), "-", "-", "", "");
            }
        }
        if (n == 0) {
            out.println("(no budgets configured)");
        }
    }

    private static String usedOfLimit(JsonNode w) {
        String d = w.path("binding_dimension").asText(null);
        if (d == null) {
            return TokenFormat.of(w.path("used").path("total").asLong()) + " / none";
        }
        long committed = w.path("used").path(d).asLong() + w.path("reserved").path(d).asLong();
        return TokenFormat.of(committed) + " / " + TokenFormat.of(w.path("limits").path(d).asLong())
                + (d.equals("total") ? "" : " " + d);
    }

    private static String bar(JsonNode w) {
        double u = w.path("utilisation").asDouble();
        int filled = (int) Math.min(BAR, Math.round(u * BAR));
        return "[" + "#".repeat(filled) + ".".repeat(BAR - filled) + "] " + String.format(Locale.ROOT, "%3d%%",
                Math.round(u * 100));
    }

    private String projection(JsonNode w) {
        JsonNode f = w.path("forecast");
        if (f.isNull() || f.isMissingNode()) {
            return "-";
        }
        StringBuilder s = new StringBuilder(TokenFormat.of(f.path("expected").asLong()));
        if (!f.path("expected_utilisation").isNull()) {
            s.append(String.format(Locale.ROOT, " (%d%%)", Math.round(f.path("expected_utilisation").asDouble() * 100)));
        }
        s.append(" 80%: ").append(TokenFormat.of(f.path("band80").path("lower").asLong())).append('-')
                .append(TokenFormat.of(f.path("band80").path("upper").asLong()));
        if (!f.path("exhaustion").isNull()) {
            s.append(", runs out ").append(when(f.path("exhaustion").asText()));
        }
        // what drives it (a trend, a shift, a burst left out); the weights and bands are for the API
        for (JsonNode d : f.path("drivers")) {
            if (!d.asText().startsWith("weights:") && !d.asText().startsWith("bands ")) {
                s.append("; ").append(d.asText());
            }
        }
        return s.toString();
    }

    private String when(String iso) {
        try {
            return WHEN.format(Instant.parse(iso).atZone(zone));
        } catch (RuntimeException e) {
            return iso;
        }
    }

    private static String clip(String s, int n) {
        return s.length() <= n ? s : s.substring(0, n - 1) + "~";
    }
}
