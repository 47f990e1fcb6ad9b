package dev.tokenbudget.fake;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.zip.GZIPOutputStream;

import software.amazon.awssdk.eventstream.HeaderValue;
import software.amazon.awssdk.eventstream.Message;

/**
 * Writes one response: a JSON document, or a Server-Sent Events stream whose events go out one
 * HTTP chunk each, flushed at once, paced by the {@link StreamPacer}.
 */
final class Wire {

    static final ObjectMapper JSON = new ObjectMapper();

    /** Thrown when the pacer asks to break the stream: the server drops the connection. */
    static final class Broken extends RuntimeException {
        Broken() {
            super("stream broken on purpose", null, false, false);
        }
    }

    private final HttpExchange exchange;
    private final RecordedExchange record;
    private final StreamPacer pacer;
    private OutputStream stream;
    private int chunk;

    Wire(HttpExchange exchange, RecordedExchange record, StreamPacer pacer) {
        this.exchange = exchange;
        this.record = record;
        this.pacer = pacer;
    }

    void header(String name, String value) {
        exchange.getResponseHeaders().set(name, value);
    }

    /**
     * A JSON document; gzip-compressed when the request accepts gzip, as the providers' edges do
     * for JSON (event streams stay uncompressed).
     */
    void json(int status, JsonNode body) throws IOException {
        byte[] bytes = JSON.writeValueAsBytes(body);
        header("Content-Type", "application/json");
        String accept = record.request().header("accept-encoding");
        if (accept != null && accept.toLowerCase(Locale.ROOT).contains("gzip")) {
            ByteArrayOutputStream zipped = new ByteArrayOutputStream();
            try (GZIPOutputStream gz = new GZIPOutputStream(zipped)) {
                gz.write(bytes);
            }
            bytes = zipped.toByteArray();
            header("Content-Encoding", "gzip");
        }
        record.status(status, false);
        exchange.sendResponseHeaders(status, bytes.length);
        // recorded before writing: a client that has read the whole body must find it recorded
        record.sent(bytes);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(bytes);
        }
    }

    /** Sends 200 with {@code text/event-stream}; the body is chunked from here on. */
    void startStream() throws IOException {
        startStream("text/event-stream; charset=utf-8");
    }

    /** Sends 200 with {@code contentType}; the body is chunked from here on. */
    void startStream(String contentType) throws IOException {
        header("Content-Type", contentType);
        if (contentType.startsWith("text/event-stream")) {
            header("Cache-Control", "no-cache");
        }
        record.status(200, true);
        exchange.sendResponseHeaders(200, 0);
        stream = exchange.getResponseBody();
    }

    /**
     * One AWS event-stream frame ({@code application/vnd.amazon.eventstream}), one HTTP chunk:
     * headers {@code :event-type}, {@code :content-type}, {@code :message-type} in the order the
     * Bedrock Runtime sends them, the JSON payload, both CRC32s, encoded by the AWS SDK's
     * {@code Message.encode}.
     */
    void frame(String eventType, JsonNode payload) throws IOException, InterruptedException {
        Map<String, HeaderValue> h = new LinkedHashMap<>();
        h.put(":event-type", HeaderValue.fromString(eventType));
        h.put(":content-type", HeaderValue.fromString("application/json"));
        h.put(":message-type", HeaderValue.fromString("event"));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        new Message(h, JSON.writeValueAsBytes(payload)).encode(out);
        chunk(out.toByteArray());
    }

    /** One Gemini / Vertex {@code alt=sse} event: {@code data:} and a CRLF pair, as Google's servers end them. */
    void crlfEvent(JsonNode data) throws IOException, InterruptedException {
        chunk(("data: " + JSON.writeValueAsString(data) + "\r\n\r\n").getBytes(StandardCharsets.UTF_8));
    }

    private void chunk(byte[] bytes) throws IOException, InterruptedException {
        if (!pacer.beforeChunk(chunk++)) {
            throw new Broken();
        }
        record.sent(bytes);
        stream.write(bytes);
        stream.flush();
    }

    /** One SSE event: an {@code event:} line when {@code name} is not null, then one {@code data:} line. */
    void event(String name, JsonNode data) throws IOException, InterruptedException {
        raw(name, JSON.writeValueAsString(data));
    }

    void raw(String name, String data) throws IOException, InterruptedException {
        String text = (name == null ? "" : "event: " + name + "\n") + "data: " + data + "\n\n";
        chunk(text.getBytes(StandardCharsets.UTF_8));
    }

    void endStream() throws IOException {
        stream.close();
    }
}
