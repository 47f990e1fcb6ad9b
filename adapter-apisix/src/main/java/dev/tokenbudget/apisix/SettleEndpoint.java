package dev.tokenbudget.apisix;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Where APISIX's {@code http-logger} posts each finished request of a budgeted route, on
 * 127.0.0.1 inside the runner: {@code POST /tokenbudget/settle} with
 * {@code Authorization: Bearer <secret>} (the logger's {@code auth_header}). The body is one entry
 * ({@code batch_max_size: 1}), a JSON array of entries, or entries one per line
 * ({@code concat_method: new_line}), as {@code apisix/plugins/http-logger.lua} sends them.
 *
 * <p>Answers 204 once every entry is handled (an entry whose request is not waiting, e.g. settled
 * already, is handled by doing nothing, so the logger's retries never count twice), 401 without the
 * secret, 400 for a body that is not JSON, 413 above {@link #MAX_BODY}. The logger retries a
 * failed POST ({@code max_retry_count}); an entry that never arrives leaves its reservation to be
 * charged once when its lease ends.
 */
final class SettleEndpoint implements AutoCloseable {

    /** The path http-logger's {@code uri} names. */
    static final String PATH = "/tokenbudget/settle";
    /** The shortest secret accepted. */
    static final int MIN_SECRET = 16;
    /** The largest POST read: an entry holds the whole response body in it. */
    static final int MAX_BODY = 64 * 1024 * 1024;

    private static final Logger LOG = LoggerFactory.getLogger(SettleEndpoint.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final HttpServer server;
    private final ExecutorService executor;
    private final byte[] expected;
    private final Consumer<LoggedResponse> settle;

    private SettleEndpoint(HttpServer server, ExecutorService executor, String secret,
                           Consumer<LoggedResponse> settle) {
        this.server = server;
        this.executor = executor;
        this.expected = sha256("Bearer " + secret);
        this.settle = settle;
    }

    /**
     * Listens on 127.0.0.1:{@code port} (0 picks a free one).
     *
     * @throws IllegalArgumentException when the secret is missing or shorter than {@link #MIN_SECRET}
     * @throws UncheckedIOException     when the port cannot be bound
     */
    static SettleEndpoint start(int port, String secret, Consumer<LoggedResponse> settle) {
        if (secret == null || secret.strip().length() < MIN_SECRET) {
            throw new IllegalArgumentException("the settle endpoint needs a secret of at least " + MIN_SECRET
                    + " characters in TOKENBUDGET_SETTLE_SECRET (the routes' http-logger sends it as auth_header "
                    + "\"Bearer <secret>\")");
        }
        HttpServer server;
        try {
            server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 64);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot listen on 127.0.0.1:" + port + " for the settle endpoint: "
                    + e.getMessage(), e);
        }
        ExecutorService executor = Executors.newFixedThreadPool(2, r -> {
            Thread t = new Thread(r, "tokenbudget-settle");
            t.setDaemon(true);
            return t;
        });
        SettleEndpoint endpoint = new SettleEndpoint(server, executor, secret.strip(), settle);
        server.createContext("/", endpoint::handle);
        server.setExecutor(executor);
        server.start();
        return endpoint;
    }

    int port() {
        return server.getAddress().getPort();
    }

    private void handle(HttpExchange ex) throws IOException {
        try (ex; InputStream in = ex.getRequestBody()) {
            if (!PATH.equals(ex.getRequestURI().getPath())) {
                answer(ex, 404, "not found: the settle endpoint is POST " + PATH);
                return;
            }
            if (!authorised(ex.getRequestHeaders().getFirst("Authorization"))) {
                answer(ex, 401, "missing or wrong Authorization: the route's http-logger auth_header must be "
                        + "\"Bearer \" followed by TOKENBUDGET_SETTLE_SECRET");
                return;
            }
            if (!"POST".equals(ex.getRequestMethod())) {
                ex.getResponseHeaders().set("Allow", "POST");
                answer(ex, 405, "use POST");
                return;
            }
            byte[] body = in.readNBytes(MAX_BODY + 1);
            if (body.length > MAX_BODY) {
                LOG.warn("an http-logger entry of more than {} bytes was refused; its request is charged its "
                        + "reservation when the lease ends", MAX_BODY);
                answer(ex, 413, "entry larger than " + MAX_BODY + " bytes");
                return;
            }
            int n;
            try {
                n = settleAll(body);
            } catch (IOException e) {
                answer(ex, 400, "the body is not http-logger's JSON: " + e.getMessage());
                return;
            }
            LOG.debug("settle endpoint: {} entries", n);
            ex.sendResponseHeaders(204, -1);
        }
    }

    /**
     * Every entry in the body, whichever of http-logger's framings it came in. The body is read as
     * ISO-8859-1: APISIX's JSON encoder (lua-cjson's {@code char2escape}) escapes only control
     * characters, {@code "}, {@code \\} and DEL and copies every other byte of a string as it is,
     * so a logged response body that is not UTF-8 (Bedrock's binary event stream) arrives as raw
     * bytes inside the JSON; read byte for byte, each one becomes one character, and
     * {@link LoggedResponse} turns the body back into the exact bytes the client got.
     */
    private int settleAll(byte[] body) throws IOException {
        int n = 0;
        String text = new String(body, StandardCharsets.ISO_8859_1);
        try (MappingIterator<JsonNode> it = JSON.readerFor(JsonNode.class).readValues(text)) {
            while (it.hasNextValue()) {
                JsonNode root = it.nextValue();
                for (JsonNode entry : root.isArray() ? root : java.util.List.of(root)) {
                    LoggedResponse r = LoggedResponse.of(entry);
                    if (r != null && r.requestId() != null) {
                        settle.accept(r);
                        n++;
                    }
                }
            }
        } catch (RuntimeException e) {
            // MappingIterator wraps parse errors met while iterating
            if (e.getCause() instanceof IOException io) {
                throw io;
            }
            throw e;
        }
        return n;
    }

    /** Constant time: both sides are hashed first, so neither content nor length leaks through timing. */
    private boolean authorised(String authorization) {
        return authorization != null && MessageDigest.isEqual(expected, sha256(authorization.strip()));
    }

    private static void answer(HttpExchange ex, int status, String message) throws IOException {
        byte[] b = ("{\"error\":" + Json.quote(message) + "}").getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", "application/json");
        ex.sendResponseHeaders(status, b.length);
        ex.getResponseBody().write(b);
    }

    private static byte[] sha256(String s) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every Java runtime", e);
        }
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
        try {
            executor.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
