package dev.tokenbudget.envoy;

import com.google.protobuf.ByteString;
import io.envoyproxy.envoy.config.core.v3.HeaderMap;
import io.envoyproxy.envoy.config.core.v3.HeaderValue;
import io.envoyproxy.envoy.config.core.v3.HeaderValueOption;
import io.envoyproxy.envoy.config.core.v3.HeaderValueOption.HeaderAppendAction;
import io.envoyproxy.envoy.service.ext_proc.v3.HeaderMutation;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Envoy header maps both ways. Envoy sends header values in {@code raw_value} (bytes) and
 * lower-case names; older Envoys used {@code value}, which is read when {@code raw_value} is
 * empty. Values written back go in {@code raw_value} too.
 */
final class HeaderMaps {

    private HeaderMaps() {
    }

    /**
     * Names (lower case) to values in arrival order; a name sent several times keeps every value,
     * so that a duplicated credential header can be noticed rather than silently merged.
     */
    static Map<String, List<String>> read(HeaderMap map) {
        Map<String, List<String>> out = new LinkedHashMap<>();
        for (HeaderValue h : map.getHeadersList()) {
            String value = h.getRawValue().isEmpty() ? h.getValue() : h.getRawValue().toStringUtf8();
            out.computeIfAbsent(h.getKey().toLowerCase(Locale.ROOT), k -> new ArrayList<>(1)).add(value);
        }
        return out;
    }

    /** The first value of {@code name}, or null. */
    static String first(Map<String, List<String>> headers, String name) {
        List<String> v = headers.get(name);
        return v == null || v.isEmpty() ? null : v.get(0);
    }

    /** A mutation that overwrites (or adds) {@code set} and removes {@code remove}. */
    static HeaderMutation mutation(Map<String, String> set, Collection<String> remove) {
        HeaderMutation.Builder m = HeaderMutation.newBuilder();
        set.forEach((k, v) -> m.addSetHeaders(overwrite(k, v)));
        for (String r : remove) {
            if (!set.containsKey(r)) {
                m.addRemoveHeaders(r.toLowerCase(Locale.ROOT));
            }
        }
        return m.build();
    }

    static HeaderValueOption overwrite(String name, String value) {
        return HeaderValueOption.newBuilder()
                .setHeader(HeaderValue.newBuilder().setKey(name.toLowerCase(Locale.ROOT))
                        .setRawValue(ByteString.copyFrom(value, StandardCharsets.UTF_8)))
                .setAppendAction(HeaderAppendAction.OVERWRITE_IF_EXISTS_OR_ADD)
                .build();
    }
}
