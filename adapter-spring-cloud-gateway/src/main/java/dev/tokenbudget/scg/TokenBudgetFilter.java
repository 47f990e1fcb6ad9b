package dev.tokenbudget.scg;

import dev.tokenbudget.gateway.Admission;
import dev.tokenbudget.gateway.BudgetGateway;
import dev.tokenbudget.gateway.Forward;
import dev.tokenbudget.gateway.Identification;
import dev.tokenbudget.gateway.Identified;
import dev.tokenbudget.gateway.Reply;
import dev.tokenbudget.provider.Provider;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.cloud.gateway.filter.GatewayFilter;
import org.springframework.cloud.gateway.filter.GatewayFilterChain;
import org.springframework.cloud.gateway.filter.NettyWriteResponseFilter;
import org.springframework.cloud.gateway.support.ServerWebExchangeUtils;
import org.springframework.core.Ordered;
import org.springframework.http.server.reactive.ServerHttpRequest;
import org.springframework.web.reactive.DispatcherHandler;
import org.springframework.web.server.ServerWebExchange;
import reactor.core.publisher.Mono;

/**
 * The TokenBudget filter of one route. Per request: identify the virtual key (401), read the body
 * with a bound (413), admit it (400, 403, 429, 503 answered here with provider-shaped bodies), and
 * forward it with the key replaced by the upstream credential and the body rewritten when the
 * request was degraded; the response passes through a {@link MeteredResponse} that settles the
 * reservation when it ends, however it ends.
 *
 * <p>It runs before Spring Cloud Gateway's {@link NettyWriteResponseFilter}, so that the write
 * filter writes into the metering decorator, and before most global filters, so that a degraded
 * request can go back through route matching: a route whose predicate matches the
 * {@code x-tokenbudget-route} header then picks another upstream for it.
 */
final class TokenBudgetFilter implements GatewayFilter, Ordered {

    /** Order among the route's and global filters: ahead of the response write filter. */
    static final int ORDER = NettyWriteResponseFilter.WRITE_RESPONSE_FILTER_ORDER - 10;

    /** Exchange attribute holding the {@link Forward} of an admitted request. */
    static final String FORWARD_ATTR = TokenBudgetFilter.class.getName() + ".forward";

    private final BudgetGateway gateway;
    private final Provider provider;
    private final boolean redispatchOnDegrade;
    private final EngineCalls calls;
    private final ObjectProvider<DispatcherHandler> dispatcher;

    TokenBudgetFilter(BudgetGateway gateway, Provider provider, boolean redispatchOnDegrade, EngineCalls calls,
                      ObjectProvider<DispatcherHandler> dispatcher) {
        this.gateway = gateway;
        this.provider = provider;
        this.redispatchOnDegrade = redispatchOnDegrade;
        this.calls = calls;
        this.dispatcher = dispatcher;
    }

    @Override
    public int getOrder() {
        return ORDER;
    }

    @Override
    public Mono<Void> filter(ServerWebExchange exchange, GatewayFilterChain chain) {
        if (exchange.getAttribute(FORWARD_ATTR) != null) {
            // a degraded request back from route matching: admitted and metered already
            return chain.filter(exchange);
        }
        ServerHttpRequest request = exchange.getRequest();
        return calls.call(() -> gateway.identify(new ExchangeRequestView(request), provider),
                identification -> identified(exchange, chain, identification));
    }

    private Mono<Void> identified(ServerWebExchange exchange, GatewayFilterChain chain, Identification result) {
        if (result instanceof Reply reply) {
            return Replies.write(exchange.getResponse(), reply);
        }
        Identified id = (Identified) result;
        return RequestBody.read(exchange.getRequest(), gateway.options().maxBodyBytes())
                .flatMap(read -> {
                    if (read.isEmpty()) {
                        return Replies.write(exchange.getResponse(), gateway.tooLarge(id));
                    }
                    RequestBody body = read.get();
                    // the engine reads the buffers in place; they go upstream as they are unless rewritten
                    // waits, without a thread, for a Redis reservation or an upstream quota
                    return calls.await(() -> body.read(bytes -> gateway.admitAsync(id, bytes)),
                                    admission -> admitted(exchange, chain, admission, body))
                            .doFinally(signal -> body.release());
                });
    }

    private Mono<Void> admitted(ServerWebExchange exchange, GatewayFilterChain chain, Admission admission,
                                RequestBody body) {
        if (admission instanceof Reply reply) {
            return Replies.write(exchange.getResponse(), reply);
        }
        Forward forward = (Forward) admission;
        MeteredResponse response = new MeteredResponse(exchange.getResponse(), forward.meter(),
                forward.responseHeaders(), calls);
        ServerHttpRequest upstream;
        try {
            org.springframework.cloud.gateway.route.Route route = exchange.getAttribute(
                    ServerWebExchangeUtils.GATEWAY_ROUTE_ATTR);
            upstream = UpstreamRequest.of(exchange.getRequest(), forward, body, exchange.getResponse().bufferFactory(),
                    route == null ? null : route.getUri());
        } catch (RuntimeException e) {
            // no upstream credentials (Bedrock SigV4, a Vertex token): released, answered 500
            return Replies.write(exchange.getResponse(), gateway.signFailure(forward, e));
        }
        ServerWebExchange next = exchange.mutate().request(upstream).response(response).build();
        next.getAttributes().put(FORWARD_ATTR, forward);
        Mono<Void> sent = forward.degraded() && redispatchOnDegrade
                ? ServerWebExchangeUtils.handle(dispatcher.getObject(), next)
                : chain.filter(next);
        return sent.doFinally(signal -> response.finishIfOpen());
    }

    @Override
    public String toString() {
        return "TokenBudget[provider=" + (provider == null ? "auto" : provider.configName()) + "]";
    }
}
