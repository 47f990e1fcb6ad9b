package dev.tokenbudget.apisix;

import org.apache.apisix.plugin.runner.A6Conf;
import org.apache.apisix.plugin.runner.A6ConfigWatcher;

/**
 * Sees every route's plugin conf when APISIX prepares it: validates the TokenBudget entries and
 * loads their engine then, so that a bad conf is logged when the route is first used and the
 * first request does not pay for loading the engine. The prepare-conf protocol has no way to
 * refuse a conf; requests on a route with a bad conf are answered 500 with the reason.
 */
final class TokenBudgetConfWatcher implements A6ConfigWatcher {

    private final TokenBudgetPlugin plugin;

    TokenBudgetConfWatcher(TokenBudgetPlugin plugin) {
        this.plugin = plugin;
    }

    @Override
    public String name() {
        return "TokenBudgetConfWatcher";
    }

    @Override
    public void watch(long confToken, A6Conf a6Conf) {
        String value = a6Conf.get(TokenBudgetFilter.NAME);
        if (value != null) {
            plugin.prepare(TokenBudgetFilter.NAME, value);
        }
    }
}
