package dev.tokenbudget.gateway;

import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** A Forward's header maps: unmodifiable and ordered; only a map handed over by the gateway is kept uncopied. */
class HeaderMapsTest {

    private static Map<String, String> ordered() {
        Map<String, String> m = new LinkedHashMap<>();
        for (String k : List.of("x-tokenbudget-decision", "b", "a", "RateLimit")) {
            m.put(k, k + "-value");
        }
        return m;
    }

    private static Forward forward(Map<String, String> set, Map<String, String> response) {
        return new Forward(null, null, null, null, false, null, null, List.of(), set, response, null, null);
    }

    @Test
    void aCallersMapIsCopiedSoItsLaterChangesDoNotReachTheForward() {
        Map<String, String> set = ordered();
        Map<String, String> response = ordered();
        Forward f = forward(set, response);
        set.put("late", "1");
        response.remove("b");
        assertThat(f.setHeaders()).containsExactlyEntriesOf(ordered());
        assertThat(f.responseHeaders()).containsExactlyEntriesOf(ordered());
        assertThatThrownBy(() -> f.setHeaders().put("c", "d")).isInstanceOf(UnsupportedOperationException.class);
    }

    @Test
    void aHandedOverMapIsKeptAsItIsInOrderAndUnmodifiable() {
        Map<String, String> handed = HeaderMaps.handOver(ordered());
        Forward f = forward(handed, HeaderMaps.handOver(new LinkedHashMap<>()));
        assertThat(f.setHeaders()).isSameAs(handed).containsExactlyEntriesOf(ordered());
        assertThat(f.setHeaders().keySet()).containsExactly("x-tokenbudget-decision", "b", "a", "RateLimit");
        assertThat(f.responseHeaders()).isEmpty();
        assertThat(f.setHeaders().get("a")).isEqualTo("a-value");
        assertThat(f.setHeaders()).isEqualTo(ordered()).hasSameHashCodeAs(ordered());
        assertThatThrownBy(() -> f.setHeaders().put("c", "d")).isInstanceOf(UnsupportedOperationException.class);
        assertThatThrownBy(() -> f.setHeaders().entrySet().iterator().remove())
                .isInstanceOf(UnsupportedOperationException.class);
        assertThatThrownBy(() -> f.setHeaders().entrySet().iterator().next().setValue("x"))
                .isInstanceOf(UnsupportedOperationException.class);
    }
}
