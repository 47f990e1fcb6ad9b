package dev.tokenbudget.alert;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.tokenbudget.testing.Poll;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/** A real HTTP server on 127.0.0.1 that records what it receives and answers as told (or hangs). */
public final class LoopbackHttpServer implements AutoCloseable {

    /** One request as received. */
    public record Received(String method, String path, Map<String, List<String>> headers, String body) {
        public String header(String name) {
            for (Map.Entry<String, List<String>> e : headers.entrySet()) {
                if (e.getKey().equalsIgnoreCase(name)) {
                    return e.getValue().get(0);
                }
            }
            return null;
        }
    }

    private final HttpServer server;
    private final List<Received> received = new CopyOnWriteArrayList<>();
    private final AtomicInteger status = new AtomicInteger(200);
    private volatile String responseBody = "ok";
    private volatile CountDownLatch hang;

    public LoopbackHttpServer() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.setExecutor(Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "loopback-http");
            t.setDaemon(true);
            return t;
        }));
        server.createContext("/", this::handle);
        server.start();
    }

    private void handle(HttpExchange ex) throws IOException {
        String body = new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
        received.add(new Received(ex.getRequestMethod(), ex.getRequestURI().getPath(), Map.copyOf(ex.getRequestHeaders()),
                body));
        CountDownLatch h = hang;
        if (h != null) {
            try {
                h.await(120, TimeUnit.SECONDS); // released by the test or at close; bounded either way
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        byte[] out = responseBody.getBytes(StandardCharsets.UTF_8);
        ex.sendResponseHeaders(status.get(), out.length);
        ex.getResponseBody().write(out);
        ex.close();
    }

    public URI uri(String path) {
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort() + path);
    }

    public LoopbackHttpServer answer(int code, String body) {
        status.set(code);
        responseBody = body;
        return this;
    }

    /** Holds every request until {@link #release()}. */
    public LoopbackHttpServer hang() {
        hang = new CountDownLatch(1);
        return this;
    }

    public void release() {
        CountDownLatch h = hang;
        hang = null;
        if (h != null) {
            h.countDown();
        }
    }

    public List<Received> received() {
        return received;
    }

    /** Polls (bounded) until at least {@code n} requests arrived; returns whether they did. */
    public boolean awaitRequests(int n) {
        return Poll.until(Duration.ofSeconds(20), () -> received.size() >= n);
    }

    @Override
    public void close() {
        release();
        server.stop(0);
    }
}
