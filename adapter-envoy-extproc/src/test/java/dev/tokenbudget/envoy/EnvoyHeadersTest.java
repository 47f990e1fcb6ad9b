package dev.tokenbudget.envoy;

import com.google.protobuf.ByteString;
import io.envoyproxy.envoy.config.core.v3.HeaderMap;
import io.envoyproxy.envoy.config.core.v3.HeaderValue;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The processor's header lookups over Envoy's message agree with {@link HeaderMaps#read} (the map
 * the Envoy stand-in builds): case-insensitive names, the first of a repeated name, {@code raw_value}
 * before the older {@code value}, a header sent with an empty value present.
 */
class EnvoyHeadersTest {

    private static final HeaderMap SENT = HeaderMap.newBuilder()
            .addHeaders(raw(":method", "POST"))
            .addHeaders(raw(":path", "/v1/chat/completions"))
            .addHeaders(raw("authorization", "Bearer sk-tb-first"))
            .addHeaders(raw("authorization", "Bearer sk-tb-second"))
            .addHeaders(HeaderValue.newBuilder().setKey("x-old-envoy").setValue("from value"))
            .addHeaders(HeaderValue.newBuilder().setKey("x-both").setValue("old").setRawValue(utf8("raw")))
            .addHeaders(raw("X-Mixed-Case", "kept"))
            .addHeaders(raw("x-empty", ""))
            .addHeaders(raw("x-utf8", "café ✓"))
            .build();

    @Test
    void looksUpWhatTheMapOfTheSameMessageHolds() {
        EnvoyHeaders h = new EnvoyHeaders(SENT);
        var map = HeaderMaps.read(SENT);
        for (String name : List.of(":method", ":path", "authorization", "x-old-envoy", "x-both", "x-mixed-case",
                "x-empty", "x-utf8", "x-absent", "content-length")) {
            assertThat(h.first(name)).as(name).isEqualTo(HeaderMaps.first(map, name));
            assertThat(h.has(name)).as(name).isEqualTo(map.containsKey(name));
        }
    }

    @Test
    void namesMatchWhateverTheirCaseAndTheFirstOfARepeatedNameWins() {
        EnvoyHeaders h = new EnvoyHeaders(SENT);
        assertThat(h.first("Authorization")).isEqualTo("Bearer sk-tb-first");
        assertThat(h.first("x-mixed-case")).isEqualTo("kept");
        assertThat(h.first("X-MIXED-CASE")).isEqualTo("kept");
        assertThat(h.has("X-Empty")).isTrue();
        assertThat(h.first("x-empty")).isEmpty();
    }

    @Test
    void aValueAskedForTwiceIsTheSame() {
        EnvoyHeaders h = new EnvoyHeaders(SENT);
        assertThat(h.first("x-utf8")).isEqualTo("café ✓").isSameAs(h.first("x-utf8"));
        assertThat(h.first("x-old-envoy")).isEqualTo("from value");
    }

    @Test
    void anEmptyMessageHasNothing() {
        EnvoyHeaders h = new EnvoyHeaders(HeaderMap.getDefaultInstance());
        assertThat(h.first(":status")).isNull();
        assertThat(h.has(":status")).isFalse();
    }

    private static HeaderValue raw(String k, String v) {
        return HeaderValue.newBuilder().setKey(k).setRawValue(utf8(v)).build();
    }

    private static ByteString utf8(String s) {
        return ByteString.copyFrom(s, StandardCharsets.UTF_8);
    }
}
