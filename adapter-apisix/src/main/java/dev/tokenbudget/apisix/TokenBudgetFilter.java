package dev.tokenbudget.apisix;

import org.apache.apisix.plugin.runner.HttpRequest;
import org.apache.apisix.plugin.runner.HttpResponse;
import org.apache.apisix.plugin.runner.PostRequest;
import org.apache.apisix.plugin.runner.PostResponse;
import org.apache.apisix.plugin.runner.filter.PluginFilter;
import org.apache.apisix.plugin.runner.filter.PluginFilterChain;

import java.util.List;

/**
 * {@code TokenBudget}, named in a route's {@code ext-plugin-pre-req}: authenticates the virtual
 * key, reserves the request's tokens and answers a rejection itself; an admitted request goes on
 * with its virtual key replaced by the provider credential, its id in
 * {@link TokenBudgetPlugin#REQUEST_ID_HEADER} and, when degraded, the route label that APISIX's
 * {@code traffic-split} matches. nginx then proxies it as usual (TLS, streaming); the route's
 * {@code http-logger} reports the response to the plugin's settle endpoint.
 */
public final class TokenBudgetFilter implements PluginFilter {

    /** The filter's name in {@code ext-plugin-pre-req.conf}. */
    public static final String NAME = "TokenBudget";

    private final TokenBudgetPlugin plugin;

    TokenBudgetFilter(TokenBudgetPlugin plugin) {
        this.plugin = plugin;
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public void filter(HttpRequest request, HttpResponse response, PluginFilterChain chain) {
        plugin.admit(request, response, chain, this);
    }

    /** Named in ext-plugin-post-resp by mistake: passes the response on and says so once. */
    @Override
    public void postFilter(PostRequest request, PostResponse response, PluginFilterChain chain) {
        plugin.misplaced(this);
        chain.postFilter(request, response);
    }

    @Override
    public List<String> requiredVars() {
        return plugin.correlationVars();
    }

    @Override
    public Boolean requiredBody() {
        return true;
    }

    @Override
    public Boolean requiredRespBody() {
        return false;
    }
}
