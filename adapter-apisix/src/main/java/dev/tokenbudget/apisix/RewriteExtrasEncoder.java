package dev.tokenbudget.apisix;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import org.apache.apisix.plugin.runner.HttpResponse;

/**
 * Sits in each runner connection's pipeline between the runner's call handler and its payload
 * encoder: a pre-request response that has {@link RewriteExtras} goes on as an
 * {@link ExtendedRewrite} (the same response with the body and response headers added), which the
 * runner's encoder frames like any other response. Everything else passes untouched.
 */
final class RewriteExtrasEncoder extends ChannelOutboundHandlerAdapter {

    /** The handler's name in the pipeline. */
    static final String NAME = "tokenbudgetRewriteExtras";

    private final RewriteExtras extras;

    RewriteExtrasEncoder(RewriteExtras extras) {
        this.extras = extras;
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (msg instanceof HttpResponse r) {
            RewriteExtras.Extra extra = extras.take(r);
            if (extra != null) {
                ctx.write(new ExtendedRewrite(r, extra), promise);
                return;
            }
        }
        ctx.write(msg, promise);
    }
}
