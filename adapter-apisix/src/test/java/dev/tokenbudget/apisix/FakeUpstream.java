package dev.tokenbudget.apisix;

import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A provider on loopback answering with recorded responses in the provider's exact wire format
 * (JSON, or Server-Sent Events sent as they were recorded), and recording what it received, so
 * tests can check which credential and route label reached it.
 */
final class FakeUpstream implements AutoCloseable {

    /** A request as the provider received it. */
    record Received(String method, URI uri, Map<String, String> headers, byte[] body) {

        String header(String name) {
            return headers.get(name.toLowerCase(Locale.ROOT));
        }
    }

    /** What the provider answers. */
    record Answer(int status, String contentType, byte[] body) {

        static Answer ofResource(int status, String contentType, String resource) {
            try (InputStream in = FakeUpstream.class.getResourceAsStream(resource)) {
                if (in == null) {
                    throw new IllegalArgumentException("no test resource " + resource);
                }
                return new Answer(status, contentType, in.readAllBytes());
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        }
    }

    private final String name;
    private final HttpServer server;
    private final List<Received> received = new CopyOnWriteArrayList<>();
    private volatile Answer answer = new Answer(500, "application/json",
            "{\"error\":{\"message\":\"no answer configured\"}}".getBytes(StandardCharsets.UTF_8));

    FakeUpstream(String name) throws IOException {
        this.name = name;
        this.server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/", exchange -> {
            try (exchange) {
                Map<String, String> h = new TreeMap<>();
                exchange.getRequestHeaders().forEach((k, v) -> h.put(k.toLowerCase(Locale.ROOT), v.get(0)));
                received.add(new Received(exchange.getRequestMethod(), exchange.getRequestURI(), h,
                        exchange.getRequestBody().readAllBytes()));
                Answer a = answer;
                exchange.getResponseHeaders().set("content-type", a.contentType());
                exchange.getResponseHeaders().set("x-request-id", "req_" + name + "_" + received.size());
                exchange.sendResponseHeaders(a.status(), a.body().length == 0 ? -1 : a.body().length);
                exchange.getResponseBody().write(a.body());
            }
        });
        server.start();
    }

    String name() {
        return name;
    }

    URI base() {
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort());
    }

    void answer(Answer a) {
        this.answer = a;
    }

    List<Received> received() {
        return List.copyOf(received);
    }

    Received last() {
        return received.isEmpty() ? null : received.get(received.size() - 1);
    }

    static byte[] resource(String name) {
        try {
            return Files.readAllBytes(Path.of(FakeUpstream.class.getResource(name).toURI()));
        } catch (Exception e) {
            throw new IllegalStateException("no test resource " + name, e);
        }
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
