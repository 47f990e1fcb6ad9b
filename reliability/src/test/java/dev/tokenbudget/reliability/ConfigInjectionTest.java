package dev.tokenbudget.reliability;

import dev.tokenbudget.config.ConfigError;
import dev.tokenbudget.config.ConfigException;
import dev.tokenbudget.config.ConfigLoader;
import dev.tokenbudget.identity.KeyHash;
import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/**
 * The other way into a response header: the config. Every string that reaches a header, a Redis
 * key or an admin URL (budget ids, window and key names, references to them, the degrade route and
 * cache TTL, header names, the key prefix) is refused, with the path named, when it holds a line
 * break, a control or non-ASCII character, a quote, a blank, a slash or too many characters; and the error
 * itself, which a host logs at start-up, holds no line break or control character whatever the
 * bad value was (no forged log lines).
 */
class ConfigInjectionTest {

    private static final String HASH = KeyHash.of("vk-config-injection");

    /** Values that must never become an id; each is written into the YAML as a double-quoted string. */
    private static final List<String> BAD = List.of("acme\r\nX-Injected: 1", "acme\nX-Injected: 1", "acme\rx",
            "acme\u0000", "acme\u000b", "acme\u2028X-Injected: 1", "acme\u0085x", "jos\u00e9", "acme\"x", "acme x",
            "acme;q=1", "../../etc/passwd", "acme/x", "key:acme", "a".repeat(65), "",
            // trailing line breaks and NUL after an otherwise valid duration or count
            "1h\r\n", "1h\u0000", "5\n");

    /** Where each value goes ({@code VALUE} replaced), and the path the error must name. */
    private static Map<String, String> positions() {
        String key = "  - {name: k, sha256: " + HASH + ", budget: acme, features: [chat]}\n";
        String base = """
                budgets:
                  - {id: acme, windows: [{period: day, limits: {total: 1M}}]}
                  - {id: chat, parent: acme, windows: [{period: day, limits: {total: 1M}}]}
                """;
        Map<String, String> p = new LinkedHashMap<>();
        p.put("""
                budgets:
                  - {id: VALUE, windows: [{period: day, limits: {total: 1M}}]}
                """, "budgets[0].id");
        p.put(base + "  - {id: other, parent: VALUE, windows: [{period: day, limits: {total: 1M}}]}\n",
                "budgets[2].parent");
        p.put("""
                budgets:
                  - {id: acme, windows: [{period: day, name: VALUE, limits: {total: 1M}}]}
                """, "budgets[0].windows[0].name");
        p.put(base + "keys:\n  - {name: VALUE, sha256: " + HASH + ", budget: acme}\n", "keys[0].name");
        p.put(base + "keys:\n  - {name: k, sha256: " + HASH + ", budget: VALUE}\n", "keys[0].budget");
        p.put(base + "keys:\n  - {name: k, sha256: " + HASH + ", budget: acme, features: [VALUE]}\n",
                "keys[0].features[0]");
        p.put(base + "keys:\n  - {name: k, sha256: " + HASH + ", budget: acme, features: [chat], "
                + "default_feature: VALUE}\n", "keys[0].default_feature");
        for (String field : List.of("route", "cache_ttl")) {
            p.put("""
                    budgets:
                      - id: acme
                        windows: [{period: day, limits: {total: 1M}}]
                        thresholds: [{at: 90, policy: degrade_route}]
                        degrade: {max_output_tokens: 100, FIELD: VALUE}
                    """.replace("FIELD", field), "budgets[0].degrade." + field);
        }
        p.put(base + "headers: {user: VALUE}\n", "headers.user");
        p.put(base + "headers: {feature: VALUE}\n", "headers.feature");
        p.put(base + "store: {type: redis, redis: {uri: \"redis://127.0.0.1:6379\", key_prefix: VALUE}}\n",
                "store.redis.key_prefix");
        p.put(base + "upstreams:\n  - {name: VALUE, provider: openai, preset: openai-tier-1}\n", "upstreams[0].name");
        p.put(base + "keys:\n" + key + "alerts:\n  budgets: [VALUE]\n", "alerts.budgets[0]");
        return p;
    }

    @Test
    void everyIdBearingFieldRefusesUnsafeValuesAndTheErrorIsSafeToLog() {
        int refused = 0;
        for (Map.Entry<String, String> pos : positions().entrySet()) {
            for (String bad : BAD) {
                if (pos.getValue().equals("store.redis.key_prefix") && bad.equals("key:acme")) {
                    continue; // a key prefix may hold ':', as Redis key names do
                }
                String yaml = pos.getKey().replace("VALUE", quoted(bad));
                ConfigException e = catchThrowableOfType(ConfigException.class, () -> ConfigLoader.parse(yaml));
                assertThat(e).as("%s = %s is refused", pos.getValue(), quoted(bad)).isNotNull();
                assertThat(e.errors()).extracting(ConfigError::path).as("%s = %s", pos.getValue(), quoted(bad))
                        .contains(pos.getValue());
                assertThat(e.getMessage().split("\n  ", -1)).as("one line per error for %s", quoted(bad))
                        .allSatisfy(line -> assertThat(line).doesNotContain("\n", "\r", "\u0000", "\u000b",
                                "\u2028", "\u0085"));
                refused++;
            }
        }
        assertThat(refused).isGreaterThan(150);
    }

    @Test
    void aRedisUriWithCredentialsIsNotEchoedInTheError() {
        ConfigException e = catchThrowableOfType(ConfigException.class, () -> ConfigLoader.parse("""
                budgets:
                  - {id: acme, windows: [{period: day, limits: {total: 1M}}]}
                store: {type: redis, redis: {uri: "http://tb:s3cret-redis-password@10.0.0.5:6379"}}
                """));
        assertThat(e.getMessage()).contains("store.redis.uri: must be a redis://").doesNotContain("s3cret");
    }

    /** A YAML double-quoted scalar holding exactly {@code s}. */
    private static String quoted(String s) {
        StringBuilder b = new StringBuilder("\"");
        s.codePoints().forEach(c -> {
            if (c == '"' || c == '\\') {
                b.append('\\').append((char) c);
            } else if (c < 0x20 || c > 0x7e) {
                b.append(String.format("\\u%04x", c));
            } else {
                b.appendCodePoint(c);
            }
        });
        return b.append('"').toString();
    }
}
