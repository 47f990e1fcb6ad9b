package dev.tokenbudget.provider.json;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The scanner's precomputed path tables give exactly what the path rule says: a scalar is reported
 * when the object field names leading to it, joined by {@code '.'} (arrays adding nothing), spell a
 * wanted path; an array's scalar element when the field holding the array does. Checked against a
 * walk of the whole tree that builds every path string, with field names that hold dots or are empty.
 */
class JsonScannerPathProperties {

    private static final List<String> NAMES = List.of("a", "b", "a.b", "", "usage", "in", "b.");

    @Provide
    Arbitrary<Set<String>> paths() {
        Arbitrary<String> path = Arbitraries.of(NAMES).list().ofMinSize(1).ofMaxSize(3).map(l -> String.join(".", l));
        return path.set().ofMinSize(1).ofMaxSize(6);
    }

    @Property(tries = 1000)
    void reportsExactlyTheScalarsWhosePathIsWanted(@ForAll("paths") Set<String> paths, @ForAll long seed) {
        Random r = new Random(seed);
        JsonNode doc = r.nextInt(4) == 0 ? array(r, 0) : object(r, 0);
        List<String> expected = new ArrayList<>();
        walk(doc, "", paths, expected);

        List<String> seen = new ArrayList<>();
        JsonScanner s = new JsonScanner(JsonScanner.Paths.of(paths), (p, v) -> seen.add(p + "=" + v.text()));
        byte[] b = doc.toString().getBytes(StandardCharsets.UTF_8);
        s.feed(b, 0, b.length);
        s.end();

        assertThat(s.failure()).isNull();
        assertThat(seen).as(doc.toString() + " over " + paths).isEqualTo(expected);
    }

    private static void walk(JsonNode n, String prefix, Set<String> paths, List<String> out) {
        if (n.isObject()) {
            n.fields().forEachRemaining(e -> {
                if (e.getValue().isContainerNode()) {
                    walk(e.getValue(), prefix + e.getKey() + ".", paths, out);
                } else if (paths.contains(prefix + e.getKey())) {
                    out.add(prefix + e.getKey() + "=" + text(e.getValue()));
                }
            });
        } else {
            for (JsonNode el : n) {
                if (el.isContainerNode()) {
                    walk(el, prefix, paths, out);
                } else if (!prefix.isEmpty() && paths.contains(prefix.substring(0, prefix.length() - 1))) {
                    out.add(prefix.substring(0, prefix.length() - 1) + "=" + text(el));
                }
            }
        }
    }

    private static String text(JsonNode scalar) {
        return scalar.isNull() ? null : scalar.asText();
    }

    private static ObjectNode object(Random r, int depth) {
        ObjectNode o = JsonNodeFactory.instance.objectNode();
        int n = r.nextInt(5);
        for (int i = 0; i < n; i++) {
            o.set(NAMES.get(r.nextInt(NAMES.size())), value(r, depth + 1));
        }
        return o;
    }

    private static ArrayNode array(Random r, int depth) {
        ArrayNode a = JsonNodeFactory.instance.arrayNode();
        int n = r.nextInt(4);
        for (int i = 0; i < n; i++) {
            a.add(value(r, depth + 1));
        }
        return a;
    }

    private static JsonNode value(Random r, int depth) {
        int k = r.nextInt(depth >= 4 ? 4 : 6);
        return switch (k) {
            case 0 -> JsonNodeFactory.instance.numberNode(r.nextInt(1000));
            case 1 -> JsonNodeFactory.instance.textNode("t" + r.nextInt(100));
            case 2 -> JsonNodeFactory.instance.booleanNode(r.nextBoolean());
            case 3 -> JsonNodeFactory.instance.nullNode();
            case 4 -> object(r, depth);
            default -> array(r, depth);
        };
    }
}
