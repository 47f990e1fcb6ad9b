package dev.tokenbudget.envoy;

import dev.tokenbudget.engine.EngineFixture;
import dev.tokenbudget.gateway.BudgetGateway;
import dev.tokenbudget.gateway.GatewayOptions;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The ext_proc server on a real loopback Netty port, over an engine on a manual clock, and a
 * plaintext HTTP/2 channel to it like Envoy's {@code envoy_grpc} cluster.
 */
final class ExtProcFixture implements AutoCloseable {

    static final String MAIN = "sk-tb-main";
    static final String TIGHT = "sk-tb-tight";
    static final String CHEAP = "sk-tb-cheap";
    static final String UPSTREAM_OPENAI = "sk-upstream-openai";
    static final String UPSTREAM_ANTHROPIC = "sk-ant-upstream";

    static final String SUPPORT_PROMPT = "You are the Acme support copilot. Answer in two sentences at most.";
    static final String SUPPORT_SHORT = "You are the Acme support copilot. One sentence.";

    static final String YAML = """
            prompts:
              support: "%s"
              support-short: "%s"
            providers:
              openai: { api_key_env: TB_OPENAI }
              anthropic: { api_key_env: TB_ANTHROPIC }
            defaults:
              output_tokens: 1000
            budgets:
              - id: org
                windows: [{ period: month, limits: { total: 100M } }]
              - id: copilot
                parent: org
                windows: [{ period: month, limits: { total: 50M } }]
              - id: tight
                parent: org
                windows: [{ period: day, limits: { total: 5000 } }]
                thresholds: [{ at: 100, policy: hard_stop }]
              - id: cheap
                parent: org
                windows: [{ period: day, limits: { total: 10000 } }]
                thresholds: [{ at: 50, policy: degrade_route }]
                degrade:
                  models: { gpt-4.1: gpt-4.1-mini, claude-opus-4-7: claude-haiku-4-5 }
                  max_output_tokens: 256
                  route: economy
                  prompt_variants: { support: support-short }
            keys:
              - { name: main, sha256: %s, budget: org, features: [copilot], default_feature: copilot }
              - { name: tight, sha256: %s, budget: tight }
              - { name: cheap, sha256: %s, budget: cheap }
            """.formatted(SUPPORT_PROMPT, SUPPORT_SHORT, EngineFixture.sha(MAIN), EngineFixture.sha(TIGHT), EngineFixture.sha(CHEAP));

    final EngineFixture engine = new EngineFixture(YAML);
    final ExtProcService service;
    final ExtProcServer server;
    final ManagedChannel channel;

    ExtProcFixture() {
        BudgetGateway gateway = new BudgetGateway(engine.engine, GatewayOptions.custom()
                .environment(Map.of("TB_OPENAI", UPSTREAM_OPENAI, "TB_ANTHROPIC", UPSTREAM_ANTHROPIC)::get)
                .build());
        service = new ExtProcService(gateway);
        server = new ExtProcServer(new InetSocketAddress("127.0.0.1", 0), service, service::openStreams,
                32 << 20, engine.engine).start();
        channel = NettyChannelBuilder.forAddress("127.0.0.1", server.port()).usePlaintext().build();
    }

    EnvoyStream stream() {
        return new EnvoyStream(channel);
    }

    long used(String budget) {
        return engine.usedTotal(budget);
    }

    long reserved(String budget) {
        return engine.reservedTotal(budget);
    }

    /** Waits (bounded) until every stream the server saw has ended; the meters have run by then. */
    void awaitNoOpenStreams() {
        for (int i = 0; i < 2000 && service.openStreams() > 0; i++) {
            sleepBriefly();
        }
        if (service.openStreams() > 0) {
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
        try (InputStream in = ExtProcFixture.class.getResourceAsStream("/payloads/" + name)) {
            if (in == null) {
                throw new IllegalArgumentException("no test payload " + name);
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void close() throws InterruptedException {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        server.drain(Duration.ofSeconds(5));
    }
}
