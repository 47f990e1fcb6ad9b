package dev.tokenbudget.envoy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.envoyproxy.envoy.config.core.v3.HeaderValueOption;
import io.envoyproxy.envoy.service.ext_proc.v3.HeaderMutation;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.LinkedHashMap;
import java.util.Map;

/** Reading the processor's answers back in test assertions. */
final class Mutations {

    private static final ObjectMapper JSON = new ObjectMapper();

    private Mutations() {
    }

    /** Set headers by name; every value must be in {@code raw_value}, as Envoy reads it. */
    static Map<String, String> set(HeaderMutation m) {
        Map<String, String> out = new LinkedHashMap<>();
        for (HeaderValueOption o : m.getSetHeadersList()) {
            if (!o.getHeader().getValue().isEmpty()) {
                throw new AssertionError("header " + o.getHeader().getKey() + " set in value, not raw_value");
            }
            out.put(o.getHeader().getKey(), o.getHeader().getRawValue().toStringUtf8());
        }
        return out;
    }

    static JsonNode json(byte[] body) {
        try {
            return JSON.readTree(body);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
