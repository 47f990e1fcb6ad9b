package dev.tokenbudget.apisix;

import dev.tokenbudget.config.ConfigException;
import dev.tokenbudget.engine.BudgetEngine;
import org.apache.apisix.plugin.runner.HttpRequest;
import org.apache.apisix.plugin.runner.HttpResponse;
import org.apache.apisix.plugin.runner.PostRequest;
import org.apache.apisix.plugin.runner.PostResponse;
import org.apache.apisix.plugin.runner.filter.PluginFilter;
import org.apache.apisix.plugin.runner.filter.PluginFilterChain;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;

/**
 * What the two TokenBudget filters share in one runner: parsed route confs, one engine per
 * engine-config file, and the requests admitted but not yet settled.
 */
public final class TokenBudgetPlugin implements AutoCloseable {

    /** nginx's per-request unique id: the same in both phases of one request. */
    public static final String DEFAULT_CORRELATION_VAR = "request_id";

    private static final Logger LOG = LoggerFactory.getLogger(TokenBudgetPlugin.class);
    private static final Pattern VAR = Pattern.compile("[a-z][a-z0-9_]{0,63}");

    private final RouteConfs confs = new RouteConfs();
    private final Engines engines = new Engines();
    private final Set<String> reported = ConcurrentHashMap.newKeySet();
    private final List<String> correlationVars;

    /**
     * @param correlationVar the nginx variable naming a request in both phases ({@code request_id})
     */
    public TokenBudgetPlugin(String correlationVar) {
        if (correlationVar == null || !VAR.matcher(correlationVar).matches()) {
            throw new IllegalArgumentException("tokenbudget.apisix.correlation-var must be an nginx variable name "
                    + "(a-z, 0-9, _), was \"" + correlationVar + "\"");
        }
        this.correlationVars = List.of(correlationVar);
    }

    /** The variables both filters ask APISIX for. */
    List<String> correlationVars() {
        return correlationVars;
    }

    /** Validates a route's conf and loads its engine when APISIX prepares the route; logs what is wrong. */
    void prepare(String filterName, String value) {
        RouteConf conf;
        try {
            conf = confs.get(value);
        } catch (ConfigException e) {
            reportOnce(filterName, value, e);
            return;
        }
        try {
            engines.get(conf.config());
        } catch (ConfigException e) {
            reportOnce(filterName, conf.config().toString(), e);
        }
    }

    /** The pre-request phase. */
    void admit(HttpRequest request, HttpResponse response, PluginFilterChain chain, PluginFilter filter) {
        String value = request.getConfig(filter);
        RouteConf conf;
        try {
            conf = confs.get(value);
        } catch (ConfigException e) {
            reportOnce(filter.name(), value, e);
            Replies.misconfigured(response, e, true);
            return;
        }
        BudgetEngine engine;
        try {
            engine = engines.get(conf.config());
        } catch (ConfigException e) {
            reportOnce(filter.name(), conf.config().toString(), e);
            Replies.misconfigured(response, e, false);
            return;
        }
        chain.filter(request, response);
    }

    /** The post-response phase. */
    void settle(PostRequest request, PostResponse response, PluginFilterChain chain, PluginFilter filter) {
        chain.postFilter(request, response);
    }

    /** TokenBudget named in ext-plugin-post-resp: no body was asked for, so settle by estimate. */
    void settleWithoutBody(PostRequest request, PostResponse response, PluginFilterChain chain, PluginFilter filter) {
        if (reported.add("misplaced:" + filter.name())) {
            LOG.warn("{} is named in ext-plugin-post-resp; name {} there so that usage is read from the response "
                    + "(requests are settled by estimate meanwhile)", filter.name(), TokenBudgetFilter.SETTLE_NAME);
        }
        chain.postFilter(request, response);
    }

    /** TokenBudgetSettle named in ext-plugin-pre-req: refuse rather than forward unbudgeted. */
    void misplaced(HttpResponse response, PluginFilter filter) {
        if (reported.add("misplaced:" + filter.name())) {
            LOG.error("{} is named in ext-plugin-pre-req; name {} there (and {} in ext-plugin-post-resp)",
                    filter.name(), TokenBudgetFilter.NAME, TokenBudgetFilter.SETTLE_NAME);
        }
        Replies.stop(response, 500, "{\"error\":{\"type\":\"tokenbudget_misconfigured\",\"message\":"
                + Json.quote(filter.name() + " belongs in ext-plugin-post-resp; ext-plugin-pre-req needs "
                + TokenBudgetFilter.NAME) + "}}");
    }

    private void reportOnce(String filterName, String what, ConfigException e) {
        if (reported.add(filterName + '\u0000' + what)) {
            LOG.error("{}: {} is invalid: {}", filterName, what, e.getMessage());
        }
    }

    @Override
    public void close() {
        engines.close();
    }
}
