package dev.tokenbudget.envoy;

import dev.tokenbudget.engine.EngineFixture;
import dev.tokenbudget.gateway.BudgetGateway;
import dev.tokenbudget.gateway.GatewayFixture;
import dev.tokenbudget.provider.Payloads;
import dev.tokenbudget.testing.Poll;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The ext_proc server on a real loopback Netty port in front of a gateway layer (by default the
 * gateway layer's own test gateway, {@link GatewayFixture}: its budgets, keys and prompts,
 * registered in the config as an Envoy host does), and a plaintext HTTP/2 channel to it like
 * Envoy's {@code envoy_grpc} cluster. The server is told the message timeouts of the Envoy filter
 * the streams come from ({@link #rules}), as the {@code --message-timeout} flags tell it.
 */
final class ExtProcFixture implements AutoCloseable {

    final EngineFixture engine;
    final BudgetGateway gateway;
    /** The Envoy filter the streams come from (examples/envoy/envoy.yaml by default), timed by the engine's manual clock. */
    final EnvoyRules rules;
    final ExtProcService service;
    final ExtProcServer server;
    final ManagedChannel channel;

    ExtProcFixture() {
        this(GatewayFixture.promptsInTheConfig());
    }

    private ExtProcFixture(GatewayFixture g) {
        this(g.engine, g.gateway, EnvoyRules.example(g.engine.clock::nanoTime));
    }

    ExtProcFixture(EngineFixture engine, BudgetGateway gateway, EnvoyRules rules) {
        this(engine, gateway, rules, UpstreamSigning.none());
    }

    /** A server that signs requests to {@code signing}'s upstreams, as {@code --bedrock-upstream} tells it. */
    ExtProcFixture(EngineFixture engine, BudgetGateway gateway, EnvoyRules rules, UpstreamSigning signing) {
        this.engine = engine;
        this.gateway = gateway;
        this.rules = rules;
        ExecutorService callbacks = ExtProcServer.callbackPool(ExtProcServer.DEFAULT_HANDLER_THREADS);
        service = new ExtProcService(gateway, signing,
                new MessageTimeouts(rules.messageTimeout(), rules.maxMessageTimeout()), callbacks);
        server = new ExtProcServer(new InetSocketAddress("127.0.0.1", 0), service, service::openStreams,
                32 << 20, callbacks, engine.engine).start();
        channel = NettyChannelBuilder.forAddress("127.0.0.1", server.port()).usePlaintext()
                .maxInboundMessageSize(32 << 20).build();
    }

    /** A stream from the fixture's filter. */
    EnvoyStream stream() {
        return stream(rules);
    }

    /** A stream from a filter configured otherwise. */
    EnvoyStream stream(EnvoyRules filter) {
        return new EnvoyStream(channel, filter.filter(), engine.clock::nanoTime);
    }

    long used(String budget) {
        return engine.usedTotal(budget);
    }

    long reserved(String budget) {
        return engine.reservedTotal(budget);
    }

    /** Waits (bounded) until every stream the server saw has ended; the meters have run by then. */
    void awaitNoOpenStreams() {
        if (!Poll.until(Duration.ofSeconds(20), () -> service.openStreams() == 0)) {
            throw new AssertionError(service.openStreams() + " streams still open on the server");
        }
    }

    static void sleepBriefly() {
        try {
            Thread.sleep(10);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    static byte[] payload(String name) {
        return Payloads.bytes(name);
    }

    @Override
    public void close() throws InterruptedException {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        server.drain(Duration.ofSeconds(5));
    }
}
