package dev.tokenbudget.console;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tokenbudget.budget.Budget;
import dev.tokenbudget.config.ConfigException;
import dev.tokenbudget.config.ConfigLoader;
import dev.tokenbudget.config.EngineConfig;
import dev.tokenbudget.ledger.LedgerChange;
import dev.tokenbudget.ledger.LedgerEntry;
import dev.tokenbudget.ledger.StoreLedger;
import dev.tokenbudget.store.BudgetStore;
import dev.tokenbudget.store.BudgetStores;
import dev.tokenbudget.store.StoreUnavailableException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code tokenbudget ledger}: the append-only record of changes to budgets (rebalances, holds,
 * limit changes), read from the shared store a config names (Redis) or from a running gateway's
 * admin API ({@code --url}).
 */
@Command(name = "ledger", mixinStandardHelpOptions = true,
        description = "Show the ledger of budget changes (rebalances, reservations, limit changes): from the Redis "
                + "store a config names, or from a running gateway's admin API with --url.")
final class LedgerCommand implements Callable<Integer> {

    private static final ObjectMapper JSON = new ObjectMapper();

    @Parameters(paramLabel = "CONFIG", arity = "0..1",
            description = "The engine's YAML config; its store (store: redis) is read. Omit it with --url.")
    private Path config;

    @Option(names = "--url", paramLabel = "URL",
            description = "Read a running gateway's admin API instead (token: --token or $" + StatusCommand.TOKEN_ENV
                    + ").")
    private String url;

    @Option(names = "--token", paramLabel = "TOKEN", description = "Admin token, with --url.")
    private String token;

    @Option(names = "--budget", paramLabel = "ID", description = "Only entries about this budget.")
    private String budget;

    @Option(names = "--after", paramLabel = "SEQ", description = "Only entries numbered after SEQ (default 0).")
    private long after;

    @Option(names = "--max", paramLabel = "N", description = "At most N entries (default 1000).")
    private int max = 1000;

    @Option(names = "--json", description = "One JSON object per line instead of a table.")
    private boolean json;

    @Spec
    private CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        if ((config == null) == (url == null)) {
            return Failure.usage(err, "ledger", "give either a CONFIG (to read its Redis store) or --url (a running "
                    + "gateway's admin API)");
        }
        if (max < 1) {
            return Failure.usage(err, "ledger", "--max must be at least 1, was " + max);
        }
        List<LedgerEntry> entries;
        try {
            entries = config != null ? fromStore(err) : fromAdminApi();
        } catch (AdminClient.Failure | ConfigException | StoreUnavailableException | IllegalArgumentException e) {
            return Failure.report(err, "ledger", e instanceof ConfigException c ? config + ": " + c.getMessage()
                    : e.getMessage());
        }
        if (entries == null) {
            err.flush();
            return Failure.USAGE;
        }
        if (json) {
            entries.forEach(e -> out.println(toJson(e)));
        } else {
            print(out, entries);
        }
        out.flush();
        return 0;
    }

    /** The entries of the store the config names; null (with a message) when it keeps none to read. */
    private List<LedgerEntry> fromStore(PrintWriter err) {
        EngineConfig c = ConfigLoader.load(config);
        if (!c.store().isRedis()) {
            err.println("ledger: " + config + " uses store: memory, whose ledger lives inside the gateway's process; "
                    + "read it from the gateway's admin API: tokenbudget ledger --url http://127.0.0.1:8081");
            return null;
        }
        try (BudgetStore store = BudgetStores.open(c.store())) {
            List<String> roots = c.budgets().budgets().stream().filter(b -> b.parent().isEmpty()).map(Budget::id)
                    .toList();
            StoreLedger ledger = new StoreLedger(store, roots, id -> c.budgets().contains(id)
                    ? c.budgets().rootOf(id) : null);
            return ledger.after(after, max, budget);
        }
    }

    private List<LedgerEntry> fromAdminApi() throws AdminClient.Failure {
        String t = token != null ? token : StatusCommand.env(StatusCommand.TOKEN_ENV, null);
        if (t == null || t.isBlank()) {
            throw new AdminClient.Failure("no admin token: set " + StatusCommand.TOKEN_ENV + " or pass --token");
        }
        String path = "/v1/ledger?since=" + after + "&limit=" + Math.min(max, 1000)
                + (budget == null ? "" : "&budget=" + URLEncoder.encode(budget, StandardCharsets.UTF_8));
        JsonNode body = AdminClient.get(url, path, t.strip(), StatusCommand.TOKEN_ENV);
        if (!body.path("entries").isArray()) {
            throw new AdminClient.Failure(url + "/v1/ledger answered JSON without entries; is this the tokenbudget "
                    + "admin port?");
        }
        List<LedgerEntry> out = new ArrayList<>();
        for (JsonNode e : body.path("entries")) {
            out.add(new LedgerEntry(e.path("seq").asLong(), Instant.parse(e.path("at").asText()), new LedgerChange(
                    LedgerChange.Kind.valueOf(e.path("kind").asText().toUpperCase(java.util.Locale.ROOT)),
                    e.path("budget_id").asText(), text(e, "window"), amounts(e.path("before")),
                    amounts(e.path("after")), e.path("actor").asText(), text(e, "reason"),
                    text(e, "idempotency_key"))));
        }
        return out;
    }

    private static String text(JsonNode n, String field) {
        JsonNode v = n.get(field);
        return v == null || v.isNull() ? null : v.asText();
    }

    private static Map<String, Long> amounts(JsonNode n) {
        Map<String, Long> out = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = n.fields(); it.hasNext();) {
            Map.Entry<String, JsonNode> f = it.next();
            out.put(f.getKey(), f.getValue().asLong());
        }
        return out;
    }

    private static void print(PrintWriter out, List<LedgerEntry> entries) {
        if (entries.isEmpty()) {
            out.println("(no entries)");
            return;
        }
        String fmt = "%-5s %-20s %-22s %-16s %-15s %-24s %-18s %s%n";
        out.printf(fmt, "SEQ", "AT", "KIND", "BUDGET", "WINDOW", "BEFORE -> AFTER", "ACTOR", "REASON");
        for (LedgerEntry e : entries) {
            LedgerChange c = e.change();
            out.printf(fmt, e.seq(), e.at(), c.kind().name().toLowerCase(java.util.Locale.ROOT), c.budgetId(),
                    c.window() == null ? "-" : c.window(), amounts(c.before()) + " -> " + amounts(c.after()), c.actor(),
                    c.reason() == null ? "" : c.reason());
        }
    }

    private static String amounts(Map<String, Long> m) {
        if (m.isEmpty()) {
            return "-";
        }
        List<String> parts = new ArrayList<>();
        m.forEach((k, v) -> parts.add(k + " " + TokenFormat.of(v)));
        return String.join(", ", parts);
    }

    private static String toJson(LedgerEntry e) {
        LedgerChange c = e.change();
        ObjectNode n = JSON.createObjectNode();
        n.put("seq", e.seq());
        n.put("at", e.at().toString());
        n.put("kind", c.kind().name().toLowerCase(java.util.Locale.ROOT));
        n.put("budget_id", c.budgetId());
        n.put("window", c.window());
        ObjectNode before = n.putObject("before");
        c.before().forEach(before::put);
        ObjectNode afterNode = n.putObject("after");
        c.after().forEach(afterNode::put);
        n.put("actor", c.actor());
        n.put("reason", c.reason());
        n.put("idempotency_key", c.idempotencyKey());
        return n.toString();
    }
}
