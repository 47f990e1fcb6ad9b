package dev.tokenbudget.apisix;

import com.google.common.cache.Cache;
import io.netty.channel.ChannelHandlerContext;
import org.apache.apisix.plugin.runner.A6Conf;
import org.apache.apisix.plugin.runner.A6ConfigWatcher;
import org.apache.apisix.plugin.runner.filter.PluginFilter;
import org.apache.apisix.plugin.runner.handler.RpcCallHandler;
import org.apache.apisix.plugin.runner.server.ApplicationRunner;
import org.springframework.beans.factory.ObjectProvider;

/**
 * The runner's server (its {@code ApplicationRunner} bean, which {@link RunnerExtension} makes
 * an instance of this class) with one change: each connection's call handler, made by the
 * public {@link #createA6HttpHandler}, puts a {@link RewriteExtrasEncoder} just before itself in
 * the connection's pipeline when it is added, so the responses it writes pass through it on their
 * way to the runner's payload encoder. Everything else is the runner's own.
 */
public class ExtendedApplicationRunner extends ApplicationRunner {

    private final RewriteExtras extras;

    public ExtendedApplicationRunner(Cache<Long, A6Conf> cache, ObjectProvider<PluginFilter> filterProvider,
                                     ObjectProvider<A6ConfigWatcher> watcherProvider, RewriteExtras extras) {
        super(cache, filterProvider, watcherProvider);
        this.extras = extras;
        extras.markInstalled();
    }

    @Override
    public RpcCallHandler createA6HttpHandler(Cache<Long, A6Conf> cache) {
        RewriteExtras e = extras;
        return new RpcCallHandler(cache) {
            @Override
            public void handlerAdded(ChannelHandlerContext ctx) throws Exception {
                super.handlerAdded(ctx);
                ctx.pipeline().addBefore(ctx.name(), RewriteExtrasEncoder.NAME, new RewriteExtrasEncoder(e));
            }
        };
    }
}
