package dev.tokenbudget.quickstart;

import dev.tokenbudget.console.admin.AdminServer;
import dev.tokenbudget.config.StoreSettings;
import dev.tokenbudget.engine.BudgetEngine;
import org.springframework.boot.context.event.ApplicationReadyEvent;
import org.springframework.context.event.EventListener;
import org.springframework.core.env.Environment;
import org.springframework.stereotype.Component;

import java.io.PrintStream;

/** Prints where the quickstart listens, where it sends traffic, and a request to try. */
@Component
class StartupReport {

    private final Environment env;
    private final BudgetEngine engine;
    private final AdminServer admin;

    StartupReport(Environment env, BudgetEngine engine, AdminServer admin) {
        this.env = env;
        this.engine = engine;
        this.admin = admin;
    }

    @EventListener(ApplicationReadyEvent.class)
    void print() {
        print(System.out);
    }

    /** The store as the config chose it: "memory store", "redis store in token blocks of up to 64 requests". */
    static String store(StoreSettings store) {
        return store.type() + " store" + (store.blocks().enabled()
                ? " in token blocks of up to " + store.blocks().maxRequests() + " requests" : "");
    }

    void print(PrintStream out) {
        String gateway = "http://" + env.getProperty("server.address", "127.0.0.1") + ":"
                + env.getProperty("local.server.port", env.getProperty("server.port", "8080"));
        String fake = env.getProperty("quickstart.fake-provider.url");
        out.println();
        out.println("tokenbudget quickstart is running (Ctrl-C stops it)");
        out.println("  gateway     " + gateway + "   OpenAI: /v1/chat/completions /v1/responses   Anthropic: /v1/messages");
        out.println("  upstreams   OpenAI -> " + upstream("openai", fake) + "   Anthropic -> "
                + upstream("anthropic", fake));
        out.println("  budgets     " + env.getProperty("tokenbudget.config") + " (" + engine.config().keys().size()
                + " keys, " + store(engine.config().store()) + ")");
        out.println("  admin       http://127.0.0.1:" + admin.port() + "/   dashboard and admin API (bearer token "
                + "TOKENBUDGET_ADMIN_TOKEN; printed above when generated) - see docs/admin-api.md");
        out.println("  demo keys   demo-key, demo-hard-stop (20k tokens/day, then 429), demo-degrade (cheaper model "
                + "from 90%) - see docs/quickstart.md");
        out.println();
        out.println("Try:");
        out.println("  curl -s " + gateway + "/v1/chat/completions -H 'Authorization: Bearer demo-hard-stop' "
                + "-H 'Content-Type: application/json' -d '{\"model\":\"gpt-4o\",\"messages\":[{\"role\":\"user\","
                + "\"content\":\"Hello\"}]}' -D -");
        out.println();
    }

    private String upstream(String provider, String fake) {
        String url = env.getProperty("quickstart.upstream." + provider);
        return url != null && url.equals(fake) ? "bundled fake provider " + url : url;
    }
}
