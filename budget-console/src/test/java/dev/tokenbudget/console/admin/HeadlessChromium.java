package dev.tokenbudget.console.admin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.MissingNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Assumptions;

import java.io.File;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * Debian's {@code chromium}, headless ({@code --headless --no-sandbox}, a fresh profile), driven
 * over the Chrome DevTools protocol on a loopback port: load a page, wait until it says it is done,
 * read what it drew, take a screenshot. JavaScript errors, console errors and refused loads (a
 * Content-Security-Policy violation, say) are collected in {@link #problems()}. Closing it ends the
 * browser and every process it started.
 */
public final class HeadlessChromium implements AutoCloseable {

    /** A bound on one protocol call against a stuck browser, not a speed requirement. */
    private static final Duration CALL_TIMEOUT = Duration.ofSeconds(60);
    private static final Duration START_TIMEOUT = Duration.ofSeconds(60);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Process process;
    private final Path log;
    private final WebSocket socket;
    private final Map<Integer, CompletableFuture<JsonNode>> pending = new ConcurrentHashMap<>();
    private final List<String> problems = Collections.synchronizedList(new ArrayList<>());
    private final AtomicInteger ids = new AtomicInteger();
    private final Thread onExit;

    private HeadlessChromium(Process process, Path log, URI page, Thread onExit)
            throws IOException, InterruptedException {
        this.process = process;
        this.log = log;
        this.onExit = onExit;
        try {
            this.socket = HttpClient.newHttpClient().newWebSocketBuilder()
                    .buildAsync(page, new Listener(this::receive, this::lost)).get(START_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
        } catch (ExecutionException | TimeoutException e) {
            throw new IOException("cannot open the DevTools socket " + page + ": " + e, e);
        }
        for (String domain : List.of("Page", "Runtime", "Log")) {
            call(domain + ".enable", JSON.createObjectNode());
        }
    }

    /**
     * The chromium on PATH ({@code chromium}, {@code chromium-browser} or {@code google-chrome});
     * without one the calling test fails when the environment variable {@code CI} is set and is
     * skipped otherwise, saying how to install it.
     */
    public static String executable() {
        for (String name : List.of("chromium", "chromium-browser", "google-chrome")) {
            for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
                if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, name))) {
                    return Path.of(dir, name).toString();
                }
            }
        }
        String why = "no chromium on PATH: the dashboard tests need it (apt-get install -y chromium)";
        if (System.getenv("CI") != null) {
            throw new AssertionError(why + "; CI is set, so this fails instead of skipping");
        }
        Assumptions.abort(why);
        return null;
    }

    /**
     * The command line of a headless chromium with its own profile, no sandbox (containers have no
     * user namespaces), nothing from the network but what the page loads, and a window of {@code
     * width} x {@code height}; add the mode ({@code --dump-dom}, {@code --screenshot=...}) and the URL.
     */
    public static List<String> command(String executable, Path profile, int width, int height) {
        return List.of(executable, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
                "--user-data-dir=" + profile, "--window-size=" + width + "," + height);
    }

    /**
     * Starts the browser on an empty page with a window of {@code width} x {@code height}, its
     * profile in {@code dir/profile} and its output in {@code dir/chromium.log}.
     */
    public static HeadlessChromium start(Path dir, int width, int height) throws IOException, InterruptedException {
        Path profile = Files.createDirectories(dir.resolve("profile"));
        Path log = dir.resolve("chromium.log");
        List<String> cmd = new ArrayList<>(command(executable(), profile, width, height));
        cmd.addAll(List.of("--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0", "about:blank"));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        // a test JVM that is stopped half-way still ends its browser
        Thread onExit = new Thread(() -> ProcessTree.destroy(p), "chromium-reaper");
        Runtime.getRuntime().addShutdownHook(onExit);
        try {
            return new HeadlessChromium(p, log, pageSocket(p, profile, log), onExit);
        } catch (IOException | InterruptedException | RuntimeException | Error e) {
            ProcessTree.destroy(p);
            Runtime.getRuntime().removeShutdownHook(onExit);
            throw e;
        }
    }

    /** The DevTools socket of the first page, once the browser has written its port into the profile. */
    private static URI pageSocket(Process p, Path profile, Path log) throws IOException, InterruptedException {
        Path portFile = profile.resolve("DevToolsActivePort");
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        while (System.nanoTime() < deadline) {
            if (!p.isAlive()) {
                throw new AssertionError("chromium exited with " + p.exitValue() + ": " + Files.readString(log));
            }
            List<String> lines = Files.exists(portFile) ? Files.readAllLines(portFile) : List.of();
            if (!lines.isEmpty() && lines.get(0).matches("\\d+")) {
                try {
                    HttpResponse<String> targets = http.send(HttpRequest.newBuilder(
                                    URI.create("http://127.0.0.1:" + lines.get(0) + "/json/list"))
                            .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
                    for (JsonNode t : JSON.readTree(targets.body())) {
                        if (t.path("type").asText().equals("page") && t.hasNonNull("webSocketDebuggerUrl")) {
                            return URI.create(t.get("webSocketDebuggerUrl").asText());
                        }
                    }
                } catch (IOException e) {
                    // the port file came before the listener, or the list is not whole yet: try again
                }
            }
            Thread.sleep(100);
        }
        throw new AssertionError("chromium opened no DevTools page within " + START_TIMEOUT.toSeconds() + " s: "
                + Files.readString(log));
    }

    /** One DevTools command; its result, or an error naming the method. */
    public JsonNode call(String method, ObjectNode params) throws IOException, InterruptedException {
        int id = ids.incrementAndGet();
        CompletableFuture<JsonNode> answer = new CompletableFuture<>();
        pending.put(id, answer);
        ObjectNode msg = JSON.createObjectNode().put("id", id).put("method", method);
        msg.set("params", params);
        try {
            socket.sendText(JSON.writeValueAsString(msg), true).get(CALL_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
            JsonNode reply = answer.get(CALL_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
            if (reply.has("error")) {
                throw new AssertionError(method + " failed: " + reply.get("error"));
            }
            return reply.path("result");
        } catch (ExecutionException | TimeoutException e) {
            throw new IOException(method + ": no answer from chromium (" + e + "); its log: " + Files.readString(log), e);
        } finally {
            pending.remove(id);
        }
    }

    /** Loads {@code url} in the page (returns when the navigation is committed, not when the page is done). */
    public void navigate(String url) throws IOException, InterruptedException {
        JsonNode r = call("Page.navigate", JSON.createObjectNode().put("url", url));
        if (r.hasNonNull("errorText")) {
            throw new AssertionError("chromium could not load " + url + ": " + r.get("errorText").asText());
        }
    }

    /**
     * The value of a JavaScript expression in the page (promises awaited, objects as JSON);
     * {@link MissingNode} for {@code undefined}. A thrown exception is an error.
     */
    public JsonNode evaluate(String expression) throws IOException, InterruptedException {
        JsonNode r = call("Runtime.evaluate", JSON.createObjectNode().put("expression", expression)
                .put("returnByValue", true).put("awaitPromise", true));
        if (r.has("exceptionDetails")) {
            throw new AssertionError("the page threw on `" + expression + "`: " + r.get("exceptionDetails"));
        }
        return r.path("result").path("value");
    }

    /**
     * Waits until {@code condition}, a JavaScript expression, is {@code true} in the page, within
     * {@code max} (a bound on a page that never gets there); evaluations that throw, e.g. while a
     * new document replaces the old one, count as not yet.
     */
    public void await(String condition, Duration max) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + max.toNanos();
        while (System.nanoTime() < deadline) {
            JsonNode r = call("Runtime.evaluate", JSON.createObjectNode().put("expression", condition)
                    .put("returnByValue", true));
            if (r.path("result").path("value").asBoolean(false)) {
                return;
            }
            Thread.sleep(100);
        }
        throw new AssertionError("the page did not get to `" + condition + "` within " + max.toSeconds()
                + " s; problems in the page: " + problems() + "; it shows: "
                + evaluate("document.body ? document.body.innerText.slice(0, 2000) : '(no body)'"));
    }

    /** A PNG of the whole page, beyond the window if it is taller, written to {@code file}. */
    public byte[] screenshot(Path file) throws IOException, InterruptedException {
        JsonNode size = call("Page.getLayoutMetrics", JSON.createObjectNode()).path("cssContentSize");
        ObjectNode clip = JSON.createObjectNode().put("x", 0).put("y", 0)
                .put("width", size.path("width").asDouble()).put("height", size.path("height").asDouble())
                .put("scale", 1);
        ObjectNode params = JSON.createObjectNode().put("format", "png").put("captureBeyondViewport", true);
        params.set("clip", clip);
        byte[] png = Base64.getDecoder().decode(call("Page.captureScreenshot", params).path("data").asText());
        Files.createDirectories(file.toAbsolutePath().getParent());
        Files.write(file, png);
        return png;
    }

    /** Uncaught exceptions, console errors and browser log errors (refused loads) seen so far. */
    public List<String> problems() {
        synchronized (problems) {
            return List.copyOf(problems);
        }
    }

    private void receive(String text) {
        JsonNode msg;
        try {
            msg = JSON.readTree(text);
        } catch (IOException e) {
            problems.add("unreadable DevTools message: " + text);
            return;
        }
        if (msg.has("id")) {
            CompletableFuture<JsonNode> answer = pending.get(msg.get("id").asInt());
            if (answer != null) {
                answer.complete(msg);
            }
            return;
        }
        JsonNode p = msg.path("params");
        switch (msg.path("method").asText()) {
            case "Runtime.exceptionThrown" -> problems.add("exception: " + p.path("exceptionDetails")
                    .path("exception").path("description").asText(p.path("exceptionDetails").path("text").asText()));
            case "Runtime.consoleAPICalled" -> {
                if (p.path("type").asText().equals("error")) {
                    problems.add("console.error: " + p.path("args"));
                }
            }
            case "Log.entryAdded" -> {
                if (p.path("entry").path("level").asText().equals("error")) {
                    problems.add(p.path("entry").path("source").asText() + ": " + p.path("entry").path("text").asText()
                            + " " + p.path("entry").path("url").asText(""));
                }
            }
            default -> {
            }
        }
    }

    /** The socket is gone (the browser exited or crashed): no answer will come. */
    private void lost(Throwable why) {
        pending.values().forEach(f -> f.completeExceptionally(why));
    }

    /** Closes the browser, then ends whatever of its process tree is left. */
    @Override
    public void close() {
        try {
            socket.sendText("{\"id\":0,\"method\":\"Browser.close\",\"params\":{}}", true)
                    .get(5, TimeUnit.SECONDS);
            process.waitFor(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException e) {
            // the browser is gone or stuck: the tree is ended below either way
        } finally {
            socket.abort();
            ProcessTree.destroy(process);
            try {
                Runtime.getRuntime().removeShutdownHook(onExit);
            } catch (IllegalStateException e) {
                // already shutting down: the hook runs anyway
            }
        }
    }

    /** Collects a message from its frames and hands it on. */
    private static final class Listener implements WebSocket.Listener {
        private final Consumer<String> messages;
        private final Consumer<Throwable> lost;
        private final StringBuilder partial = new StringBuilder();

        Listener(Consumer<String> messages, Consumer<Throwable> lost) {
            this.messages = messages;
            this.lost = lost;
        }

        @Override
        public CompletionStage<?> onClose(WebSocket ws, int status, String reason) {
            lost.accept(new IOException("the DevTools socket closed: " + status + " " + reason));
            return null;
        }

        @Override
        public void onError(WebSocket ws, Throwable error) {
            lost.accept(error);
        }

        @Override
        public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
            partial.append(data);
            if (last) {
                String text = partial.toString();
                partial.setLength(0);
                messages.accept(text);
            }
            ws.request(1);
            return null;
        }
    }
}
