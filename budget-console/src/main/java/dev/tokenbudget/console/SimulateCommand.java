package dev.tokenbudget.console;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tokenbudget.alert.Alert;
import dev.tokenbudget.alert.AlertJson;
import dev.tokenbudget.config.ConfigException;
import dev.tokenbudget.config.ConfigLoader;
import dev.tokenbudget.config.EngineConfig;
import dev.tokenbudget.config.Quantities;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code tokenbudget simulate --config CONFIG --trace TRACE [--json]}: how these budgets would
 * have behaved on this traffic (docs/simulate.md).
 */
@Command(name = "simulate", mixinStandardHelpOptions = true,
        description = "Replay a request trace (CSV: timestamp,key,feature,model,input_tokens,output_tokens) through "
                + "the budget engine on a simulated clock and print the timeline of threshold crossings, alerts, "
                + "degradations, clamps, pool draws and rejections, tokens served, degraded and rejected (requests "
                + "larger than a whole window counted apart) and what "
                + "routing did per budget, and each alert's projection against what actually happened.")
final class SimulateCommand implements Callable<Integer> {

    @Option(names = "--config", required = true, paramLabel = "CONFIG", description = "The engine's YAML config.")
    private Path config;

    @Option(names = "--trace", required = true, paramLabel = "TRACE", description = "The request trace (CSV).")
    private Path trace;

    @Option(names = "--json", description = "Print one JSON object instead of text.")
    private boolean json;

    @Option(names = "--evaluate-every", defaultValue = "1h", paramLabel = "DURATION",
            description = "Simulated time between projection evaluations (default 1h).")
    private String evaluateEvery;

    @Spec
    private CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        EngineConfig c;
        List<TraceCsv.Row> rows;
        Duration every;
        try {
            every = Quantities.duration(evaluateEvery);
            if (every.toMinutes() < 1) {
                throw new IllegalArgumentException("must be at least 1m");
            }
        } catch (IllegalArgumentException e) {
            return Failure.usage(err, "simulate", "--evaluate-every " + e.getMessage());
        }
        try {
            c = ConfigLoader.load(config);
        } catch (ConfigException e) {
            return Failure.listing(err, "simulate: " + config + ": " + e.errors().size() + " config error(s)",
                    e.errors());
        }
        try (Reader r = Files.newBufferedReader(trace, StandardCharsets.UTF_8)) {
            rows = TraceCsv.read(r, trace.toString());
        } catch (IOException e) {
            return Failure.report(err, "simulate", "cannot read " + trace + ": " + e.getMessage());
        } catch (TraceCsv.FormatException e) {
            return Failure.report(err, "simulate", e.getMessage());
        }
        Simulation.Result result = new Simulation(c, every).run(rows);
        if (result.unknownKeys() > 0) {
            err.println("simulate: skipped " + result.unknownKeys() + " request(s) whose key is not in " + config);
            err.flush();
        }
        out.print(json ? json(result) + "\n" : text(result));
        out.flush();
        return 0;
    }

    /** An alert's projection against what happened in its window. */
    record Outcome(boolean complete, long actual, Instant reachedAt) {
    }

    static Outcome outcome(Alert a, Simulation.Result r) {
        if (a.kind() == Alert.Kind.RESOLVED || !a.window().contains(":")) {
            return null; // rolling windows have no end-of-window total
        }
        Instant observed = r.last().plusNanos(1);
        Instant end = a.windowEnd().isBefore(observed) ? a.windowEnd() : observed;
        long actual = r.history().between(a.budgetId(), a.dimension(), a.windowStart(), end);
        Instant reached = null;
        long cum = 0;
        for (Instant h = a.windowStart(); h.isBefore(end); h = h.plus(1, ChronoUnit.HOURS)) {
            Instant next = h.plus(1, ChronoUnit.HOURS);
            cum += r.history().between(a.budgetId(), a.dimension(), h, next.isAfter(end) ? end : next);
            if (cum >= a.limit()) {
                reached = next;
                break;
            }
        }
        return new Outcome(!a.windowEnd().isAfter(observed), actual, reached);
    }

    private static String text(Simulation.Result r) {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "simulated %d requests from %s to %s (simulated clock, in-memory store)%n",
                r.requests(), r.first(), r.last()));
        sb.append("\nTimeline\n");
        for (Simulation.Entry e : r.timeline()) {
            String detail = e.detail();
            if (e.alert() != null) {
                detail = alertLine(e.alert());
            } else if (e.count() != null) {
                detail = detail + "; " + e.count()[0] + " request(s) in this window";
            }
            sb.append(String.format(Locale.ROOT, "  %-20s %-9s %-18s %-20s %s%n", e.at().truncatedTo(ChronoUnit.SECONDS),
                    e.type(), e.budget(), e.window(), detail));
        }
        sb.append("\nPer budget (tokens)\n");
        // never fit: requests larger than a whole window (400), apart from those refused until a reset (429)
        sb.append(String.format(Locale.ROOT, "  %-24s %15s %15s %15s %10s %10s %10s%n", "budget", "served", "degraded",
                "rejected", "requests", "rejected", "never fit"));
        for (Map.Entry<String, Simulation.Totals> e : r.budgets().entrySet()) {
            Simulation.Totals t = e.getValue();
            sb.append(String.format(Locale.ROOT, "  %-24s %15d %15d %15d %10d %10d %10d%n", e.getKey(), t.served,
                    t.degraded, t.rejected, t.requests, t.rejectedRequests, t.neverFitRequests));
        }
        sb.append("\nRouting per budget (requests; output tokens the clamps cut; overflow pool draws; US$ at list "
                + "price)\n");
        sb.append(String.format(Locale.ROOT, "  %-24s %9s %9s %9s %12s %9s %12s %12s %12s%n", "budget", "degraded",
                "clamped", "fitted", "output cut", "pool req", "pooled", "dollars", "saved"));
        for (Map.Entry<String, Simulation.Totals> e : r.budgets().entrySet()) {
            Simulation.Totals t = e.getValue();
            sb.append(String.format(Locale.ROOT, "  %-24s %9d %9d %9d %12d %9d %12d %12.2f %12.2f%n", e.getKey(),
                    t.degradedRequests, t.clampedRequests, t.fittedRequests, t.outputCut, t.poolRequests, t.pooled,
                    t.dollars, t.saved));
        }
        sb.append("\nAlerts against the outcome\n");
        for (Alert a : r.alerts()) {
            Outcome o = outcome(a, r);
            if (o == null || a.projection() == null) {
                continue;
            }
            sb.append(String.format(Locale.ROOT, "  %s %s %s %s at %s: projected %s (80%%: %s to %s), limit %s%n",
                    a.kind().label(), a.threshold() + "%", a.budgetId(), a.window(),
                    a.at().truncatedTo(ChronoUnit.SECONDS), a.projection().expected(), a.projection().lower80(),
                    a.projection().upper80(), a.exhaustion() == null ? "not reached" : "reached around "
                            + a.exhaustion().truncatedTo(ChronoUnit.MINUTES)));
            boolean inside = o.actual() >= a.projection().lower80() && o.actual() <= a.projection().upper80();
            sb.append(String.format(Locale.ROOT, "      actual %s %d (%.1f%% of %d%s), limit %s%n",
                    o.complete() ? "end of window" : "so far (window not over)", o.actual(),
                    o.actual() * 100.0 / a.limit(), a.limit(), o.complete() ? inside ? ", inside the 80% band"
                            : ", outside the 80% band" : "", o.reachedAt() == null ? "not reached"
                            : "reached by " + o.reachedAt()));
        }
        return sb.toString();
    }

    private static String alertLine(Alert a) {
        if (a.kind() == Alert.Kind.RESOLVED) {
            return "resolved: the window ended (PagerDuty incident " + a.dedupKey() + " resolves)";
        }
        String s = a.kind().label() + " " + a.threshold() + "% " + a.dimension().label() + " "
                + a.used() + " of " + a.limit() + String.format(Locale.ROOT, " (%.1f%%)", a.percent());
        if (a.projection() != null) {
            s += ", projected " + a.projection().expected() + " (80%: " + a.projection().lower80() + " to "
                    + a.projection().upper80() + ")";
        }
        if (a.exhaustion() != null) {
            s += ", limit around " + a.exhaustion().truncatedTo(ChronoUnit.MINUTES);
        }
        return s;
    }

    static String json(Simulation.Result r) {
        ObjectMapper m = AlertJson.mapper();
        ObjectNode root = m.createObjectNode();
        root.put("requests", r.requests());
        root.put("from", r.first().toString());
        root.put("to", r.last().toString());
        root.put("skipped_unknown_keys", r.unknownKeys());
        ArrayNode tl = root.putArray("timeline");
        for (Simulation.Entry e : r.timeline()) {
            ObjectNode n = tl.addObject();
            n.put("at", e.at().toString());
            n.put("type", e.type());
            n.put("budget", e.budget());
            n.put("window", e.window());
            n.put("detail", e.detail());
            if (e.count() != null) {
                n.put("requests", e.count()[0]);
            }
            if (e.alert() != null) {
                n.put("alert", e.alert().id());
            }
        }
        ArrayNode bs = root.putArray("budgets");
        r.budgets().forEach((id, t) -> bs.addObject().put("budget", id).put("served", t.served)
                .put("degraded", t.degraded).put("rejected", t.rejected).put("requests", t.requests)
                .put("rejected_requests", t.rejectedRequests).put("never_fit", t.neverFit)
                .put("never_fit_requests", t.neverFitRequests).put("degraded_requests", t.degradedRequests)
                .put("clamped_requests", t.clampedRequests).put("fitted_requests", t.fittedRequests)
                .put("output_cut", t.outputCut).put("pool_requests", t.poolRequests).put("pooled", t.pooled)
                .put("dollars", Math.round(t.dollars * 100) / 100.0).put("saved_dollars",
                        Math.round(t.saved * 100) / 100.0));
        ArrayNode as = root.putArray("alerts");
        for (Alert a : r.alerts()) {
            ObjectNode n = AlertJson.toJson(a);
            Outcome o = outcome(a, r);
            if (o != null) {
                ObjectNode on = n.putObject("outcome");
                on.put("window_complete", o.complete());
                on.put("actual", o.actual());
                on.put("actual_percent", Math.round(o.actual() * 1000.0 / a.limit()) / 10.0);
                if (a.projection() != null && o.complete()) {
                    on.put("within80", o.actual() >= a.projection().lower80()
                            && o.actual() <= a.projection().upper80());
                }
                on.put("limit_reached_by", o.reachedAt() == null ? null : o.reachedAt().toString());
            }
            as.add(n);
        }
        return root.toString();
    }
}
