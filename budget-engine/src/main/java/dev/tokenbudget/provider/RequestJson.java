package dev.tokenbudget.provider;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.core.json.JsonWriteFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.cfg.JsonNodeFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;

/**
 * Parses and writes request bodies. Numbers keep their exact value ({@code BigDecimal}), field
 * order is kept, and a duplicated field is an error: a body like {@code {"max_tokens":10,
 * "max_tokens":100000}} could be read one way here and another way upstream.
 */
public final class RequestJson {

    static final ObjectMapper MAPPER = JsonMapper.builder(new com.fasterxml.jackson.core.JsonFactoryBuilder()
                    .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(256)
                            .maxNumberLength(200).build())
                    .build())
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
            .disable(JsonNodeFeature.STRIP_TRAILING_BIGDECIMAL_ZEROES)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .disable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS)
            .disable(JsonWriteFeature.ESCAPE_NON_ASCII)
            .enable(JsonWriteFeature.COMBINE_UNICODE_SURROGATES_IN_UTF8)
            .build();

    private RequestJson() {
    }

    /** The result of parsing: the body object, or why it is not one. */
    public record Parsed(ObjectNode body, String problem) {
    }

    /** Parses a request body that must be one JSON object. Never throws. */
    public static Parsed parse(byte[] bytes) {
        if (bytes == null || bytes.length == 0) {
            return new Parsed(null, "the request body is empty; a JSON object is required");
        }
        int bad = Utf8.firstInvalid(bytes);
        if (bad >= 0) {
            return new Parsed(null, "the request body is not valid JSON: invalid UTF-8 at byte " + bad);
        }
        try {
            JsonNode n = MAPPER.readTree(bytes);
            if (n == null || !n.isObject()) {
                return new Parsed(null, "the request body must be a JSON object");
            }
            return new Parsed((ObjectNode) n, null);
        } catch (JsonProcessingException e) {
            return new Parsed(null, "the request body is not valid JSON: " + e.getOriginalMessage()
                    + location(e));
        } catch (IOException | RuntimeException e) {
            return new Parsed(null, "the request body cannot be read: " + e.getMessage());
        }
    }

    private static String location(JsonProcessingException e) {
        return e.getLocation() == null ? "" : " (at byte " + e.getLocation().getByteOffset() + ")";
    }

    /** The UTF-8 bytes of a body. */
    public static byte[] write(JsonNode body) {
        try {
            return MAPPER.writeValueAsBytes(body);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot serialise a parsed body", e);
        }
    }

    /** A new empty object node. */
    static ObjectNode object() {
        return MAPPER.createObjectNode();
    }
}
