package dev.tokenbudget.apisix;

import org.apache.apisix.plugin.runner.HttpRequest;
import org.apache.apisix.plugin.runner.HttpResponse;
import org.apache.apisix.plugin.runner.PostRequest;
import org.apache.apisix.plugin.runner.PostResponse;
import org.apache.apisix.plugin.runner.filter.PluginFilter;
import org.apache.apisix.plugin.runner.filter.PluginFilterChain;

import java.util.List;

/**
 * The TokenBudget plugin filters, one per APISIX phase:
 * <ul>
 *   <li>{@code TokenBudget}, named in a route's {@code ext-plugin-pre-req}: authenticates the
 *       virtual key, reserves the request's tokens and answers a rejection itself; an admitted
 *       request goes on with its virtual key replaced by the provider credential and, when
 *       degraded, with the route label that APISIX's {@code traffic-split} matches;</li>
 *   <li>{@code TokenBudgetSettle}, named in the route's {@code ext-plugin-post-resp}: reads the
 *       provider's usage from the upstream response body and settles that reservation.</li>
 * </ul>
 * They are two filters because the runner asks APISIX for every body a filter declares in both
 * phases, and APISIX logs an error for each request whose response body is asked for before
 * there is one.
 */
public final class TokenBudgetFilter implements PluginFilter {

    /** The pre-request filter's name. */
    public static final String NAME = "TokenBudget";
    /** The post-response filter's name. */
    public static final String SETTLE_NAME = "TokenBudgetSettle";

    private final TokenBudgetPlugin plugin;
    private final boolean preRequest;

    private TokenBudgetFilter(TokenBudgetPlugin plugin, boolean preRequest) {
        this.plugin = plugin;
        this.preRequest = preRequest;
    }

    /** {@code TokenBudget}, for ext-plugin-pre-req. */
    static TokenBudgetFilter admission(TokenBudgetPlugin plugin) {
        return new TokenBudgetFilter(plugin, true);
    }

    /** {@code TokenBudgetSettle}, for ext-plugin-post-resp. */
    static TokenBudgetFilter settlement(TokenBudgetPlugin plugin) {
        return new TokenBudgetFilter(plugin, false);
    }

    @Override
    public String name() {
        return preRequest ? NAME : SETTLE_NAME;
    }

    @Override
    public void filter(HttpRequest request, HttpResponse response, PluginFilterChain chain) {
        if (preRequest) {
            plugin.admit(request, response, chain, this);
        } else {
            plugin.misplaced(response, this);
        }
    }

    @Override
    public void postFilter(PostRequest request, PostResponse response, PluginFilterChain chain) {
        if (preRequest) {
            plugin.settleWithoutBody(request, response, chain, this);
        } else {
            plugin.settle(request, response, chain, this);
        }
    }

    @Override
    public List<String> requiredVars() {
        return plugin.correlationVars();
    }

    @Override
    public Boolean requiredBody() {
        return preRequest;
    }

    @Override
    public Boolean requiredRespBody() {
        return !preRequest;
    }
}
