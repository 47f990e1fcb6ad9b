package dev.tokenbudget.reliability;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * A malicious or broken upstream on loopback: it answers each request with the canned response
 * registered for the request's {@code model}, byte for byte (a stream goes out in pieces, each
 * flushed), whatever usage that response claims.
 */
final class HostileUpstream implements AutoCloseable {

    /** A canned answer: status, content type, and the body in the pieces it is written in. */
    record Answer(int status, String contentType, byte[]... pieces) {
    }

    private static final ObjectMapper JSON = new ObjectMapper();

    private final HttpServer server;
    private final ExecutorService executor = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "hostile-upstream");
        t.setDaemon(true);
        return t;
    });
    private final Map<String, Answer> answers = new ConcurrentHashMap<>();

    private HostileUpstream(HttpServer server) {
        this.server = server;
        server.createContext("/", this::handle);
        server.setExecutor(executor);
        server.start();
    }

    static HostileUpstream start() {
        try {
            return new HostileUpstream(HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
                    64));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    String baseUrl() {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    /** Requests for {@code model} get {@code answer}. */
    void answer(String model, Answer answer) {
        answers.put(model, answer);
    }

    private void handle(HttpExchange ex) throws IOException {
        try (InputStream in = ex.getRequestBody()) {
            JsonNode body = JSON.readTree(in.readAllBytes());
            Answer a = answers.get(body.path("model").asText());
            if (a == null) {
                ex.sendResponseHeaders(404, -1);
                return;
            }
            ex.getResponseHeaders().set("Content-Type", a.contentType());
            ex.sendResponseHeaders(a.status(), 0);
            try (OutputStream out = ex.getResponseBody()) {
                for (byte[] p : a.pieces()) {
                    out.write(p);
                    out.flush();
                }
            }
        } finally {
            ex.close();
        }
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }
}
