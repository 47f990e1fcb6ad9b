package dev.tokenbudget.provider;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import software.amazon.awssdk.eventstream.HeaderValue;
import software.amazon.awssdk.eventstream.Message;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * AWS event streams written readably for fixtures: a JSON array of frames, each
 * {@code {"headers": {name: string}, "payload": json}}, or {@code "chunk": json} for an
 * InvokeModelWithResponseStream chunk, whose payload is {@code {"bytes": base64(json)}}. Encoded
 * with the AWS SDK's {@code Message} (prelude, headers, payload, both CRC32s).
 */
public final class EventStreamFrames {

    private static final ObjectMapper JSON = new ObjectMapper();

    private EventStreamFrames() {
    }

    public static byte[] encode(JsonNode frames) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (JsonNode f : frames) {
            Map<String, HeaderValue> headers = new LinkedHashMap<>();
            for (Iterator<Map.Entry<String, JsonNode>> it = f.path("headers").fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> h = it.next();
                headers.put(h.getKey(), HeaderValue.fromString(h.getValue().asText()));
            }
            byte[] payload;
            if (f.has("chunk")) {
                ObjectNode wrapper = JSON.createObjectNode().put("bytes",
                        Base64.getEncoder().encodeToString(json(f.get("chunk"))));
                payload = json(wrapper);
            } else {
                payload = json(f.get("payload"));
            }
            frame(out, headers, payload);
        }
        return out.toByteArray();
    }

    /** One frame with the SDK's encoder. */
    public static void frame(ByteArrayOutputStream out, Map<String, HeaderValue> headers, byte[] payload) {
        new Message(headers, payload).encode(out);
    }

    /** An {@code event} frame of a JSON payload. */
    public static byte[] event(String type, String json) {
        Map<String, HeaderValue> h = new LinkedHashMap<>();
        h.put(":event-type", HeaderValue.fromString(type));
        h.put(":content-type", HeaderValue.fromString("application/json"));
        h.put(":message-type", HeaderValue.fromString("event"));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        frame(out, h, json.getBytes(StandardCharsets.UTF_8));
        return out.toByteArray();
    }

    private static byte[] json(JsonNode n) {
        try {
            return JSON.writeValueAsBytes(n);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
