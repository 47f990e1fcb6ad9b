package dev.tokenbudget.console.admin;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tokenbudget.event.BudgetEvent;
import dev.tokenbudget.event.EventLog;
import dev.tokenbudget.ledger.Ledger;
import dev.tokenbudget.ledger.LedgerEntry;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.function.Predicate;

/** {@code /v1/events} and {@code /v1/ledger}: what happened to budgets, and what was changed. */
final class ActivityApi {

    static final int DEFAULT_LIMIT = 100;
    static final int MAX_LIMIT = 1000;

    private final EventLog events;
    private final Ledger ledger;
    private final EventViews views;
    private final ObjectMapper json;

    ActivityApi(EventLog events, Ledger ledger, EventViews views, ObjectMapper json) {
        this.events = events;
        this.ledger = ledger;
        this.views = views;
        this.json = json;
    }

    void register(Routes routes) {
        routes.add("GET", "/v1/events", this::events).add("GET", "/v1/ledger", this::ledger);
    }

    /**
     * {@code since} is a sequence number (events after it) or an ISO instant (events at or after
     * it); without it, the latest {@code limit} events. {@code budget} and {@code type} filter.
     */
    private Routes.Reply events(ApiRequest r) {
        int limit = r.queryInt("limit", DEFAULT_LIMIT, MAX_LIMIT);
        Predicate<BudgetEvent> filter = filter(r.query("budget"), r.query("type"));
        String since = r.query("since");
        List<EventLog.Entry> page;
        if (since == null) {
            page = events.latest(limit, filter);
        } else if (ApiRequest.isInstant(since)) {
            page = events.since(r.queryInstant("since"), limit, filter);
        } else {
            page = events.after(r.querySeq("since"), limit, filter);
        }
        ObjectNode n = json.createObjectNode();
        ArrayNode a = n.putArray("events");
        page.forEach(e -> a.add(views.event(e)));
        n.put("first_seq", events.firstSeq());
        n.put("last_seq", events.lastSeq());
        n.put("evicted", events.evicted());
        n.put("capacity", events.capacity());
        // where the next poll resumes: after the last event returned, or where this one started
        n.put("next_since", page.isEmpty() ? (since == null || ApiRequest.isInstant(since) ? events.lastSeq()
                : r.querySeq("since")) : page.get(page.size() - 1).seq());
        return Routes.Reply.ok(n);
    }

    private static Predicate<BudgetEvent> filter(String budget, String type) {
        Predicate<BudgetEvent> p = e -> true;
        if (budget != null) {
            p = p.and(e -> budget.equals(e.budgetId()));
        }
        if (type != null) {
            BudgetEvent.Type t = Arrays.stream(BudgetEvent.Type.values())
                    .filter(x -> x.name().equalsIgnoreCase(type)).findFirst()
                    .orElseThrow(() -> ApiException.badRequest("query parameter type must be one of "
                            + Arrays.stream(BudgetEvent.Type.values()).map(x -> x.name().toLowerCase(Locale.ROOT))
                            .toList() + ", was '" + Json.clip(type) + "'"));
            p = p.and(e -> e.type() == t);
        }
        return p;
    }

    private Routes.Reply ledger(ApiRequest r) {
        int limit = r.queryInt("limit", DEFAULT_LIMIT, MAX_LIMIT);
        List<LedgerEntry> page = ledger.after(r.querySeq("since"), limit, r.query("budget"));
        ObjectNode n = json.createObjectNode();
        ArrayNode a = n.putArray("entries");
        page.forEach(e -> a.add(views.ledger(e)));
        n.put("last_seq", ledger.lastSeq());
        n.put("next_since", page.isEmpty() ? r.querySeq("since") : page.get(page.size() - 1).seq());
        return Routes.Reply.ok(n);
    }
}
