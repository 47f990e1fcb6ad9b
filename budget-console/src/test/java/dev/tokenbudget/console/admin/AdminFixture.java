package dev.tokenbudget.console.admin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tokenbudget.config.ConfigLoader;
import dev.tokenbudget.engine.BudgetEngine;
import dev.tokenbudget.engine.BudgetRequest;
import dev.tokenbudget.engine.Ticket;
import dev.tokenbudget.time.ManualClock;
import dev.tokenbudget.usage.TokenUsage;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.function.Consumer;

/**
 * A real AdminServer on a loopback port over an engine on a manual clock, configured with the
 * example config users start from, and a real HTTP client.
 */
final class AdminFixture implements AutoCloseable {

    static final String TOKEN = "test-admin-token-0123456789abcdef";
    static final String SUPPORT_KEY = "sk-tb-support-example";
    static final String AGENTS_KEY = "sk-tb-agents-example";
    /** A Tuesday morning in Berlin, a few days into the month. */
    static final Instant START = Instant.parse("2026-11-10T08:00:00Z");

    final ManualClock clock;
    final BudgetEngine engine;
    final AdminServer server;
    final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
    final ObjectMapper json = new ObjectMapper();

    AdminFixture() {
        this(exampleConfig(), b -> {
        });
    }

    AdminFixture(String yaml, Consumer<AdminServer.Builder> customise) {
        this(START, yaml, customise);
    }

    AdminFixture(Instant start, String yaml, Consumer<AdminServer.Builder> customise) {
        clock = new ManualClock(start);
        engine = BudgetEngine.builder(ConfigLoader.parse(yaml)).clock(clock).build();
        AdminServer.Builder b = AdminServer.builder(engine).token(TOKEN).port(0).sampleInterval(Duration.ZERO);
        customise.accept(b);
        server = b.start();
    }

    static String exampleConfig() {
        try {
            return Files.readString(Path.of("../examples/config/tokenbudget.yaml"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Reserves and settles one request through the engine, as a gateway would. */
    Ticket spend(String secret, long input, long output) {
        Ticket t = engine.reserve(new BudgetRequest(engine.authenticate(secret).orElseThrow(), null, null, "gpt-4.1",
                input, output));
        engine.settle(t, TokenUsage.of(input, output));
        return t;
    }

    HttpResponse<String> get(String path) {
        return send("GET", path, null, TOKEN);
    }

    HttpResponse<String> send(String method, String path, String body, String token) {
        HttpRequest.Builder r = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + path))
                .timeout(Duration.ofSeconds(30))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(body));
        if (token != null) {
            r.header("Authorization", "Bearer " + token);
        }
        if (body != null) {
            r.header("Content-Type", "application/json");
        }
        try {
            return http.send(r.build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /**
     * Sends a GET with a path exactly as given, bytes the JDK client would refuse or normalise
     * included, over a plain socket; returns the status line and the body.
     */
    String[] raw(String rawPath) {
        try (java.net.Socket s = new java.net.Socket("127.0.0.1", server.port())) {
            s.setSoTimeout(30_000);
            String req = "GET " + rawPath + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + TOKEN
                    + "\r\nConnection: close\r\n\r\n";
            s.getOutputStream().write(req.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            s.getOutputStream().flush();
            String all = new String(s.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
            int split = all.indexOf("\r\n\r\n");
            return new String[] {all.substring(0, all.indexOf("\r\n")), all.substring(split + 4)};
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    JsonNode json(HttpResponse<String> r) {
        try {
            return json.readTree(r.body());
        } catch (IOException e) {
            throw new AssertionError("not JSON (" + r.statusCode() + "): " + r.body(), e);
        }
    }

    /** GET that must answer 200; its JSON body. */
    JsonNode ok(String path) {
        HttpResponse<String> r = get(path);
        if (r.statusCode() != 200) {
            throw new AssertionError("GET " + path + " answered " + r.statusCode() + ": " + r.body());
        }
        return json(r);
    }

    @Override
    public void close() {
        server.close();
        engine.close();
    }
}
