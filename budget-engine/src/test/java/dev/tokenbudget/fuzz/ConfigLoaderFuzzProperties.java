package dev.tokenbudget.fuzz;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.BigIntegerNode;
import com.fasterxml.jackson.databind.node.BooleanNode;
import com.fasterxml.jackson.databind.node.DoubleNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.LongNode;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import dev.tokenbudget.budget.Budget;
import dev.tokenbudget.budget.Limits;
import dev.tokenbudget.budget.WindowLimit;
import dev.tokenbudget.config.ConfigException;
import dev.tokenbudget.config.ConfigLoader;
import dev.tokenbudget.config.EngineConfig;
import dev.tokenbudget.identity.VirtualKey;
import dev.tokenbudget.usage.TokenUsage;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Fuzzing of the config loader: a valid config touching every section
 * ({@code fuzz-corpus/config/valid-every-section.yaml}) is mutated at random places (a value
 * replaced by a hostile one, removed, duplicated, a field added, a parent pointed elsewhere),
 * written as YAML or JSON and sometimes broken as text. Loading it either succeeds with a config
 * whose every id, limit and header-bound string is safe, or fails with a {@link ConfigException}
 * whose every error says what is wrong; nothing else escapes.
 */
class ConfigLoaderFuzzProperties {

    private static final ObjectMapper YAML = new YAMLMapper();
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final JsonNode BASE = base();

    private static final List<JsonNode> HOSTILE = List.of(LongNode.valueOf(-5), LongNode.valueOf(0),
            LongNode.valueOf(Long.MAX_VALUE), LongNode.valueOf(TokenUsage.MAX + 1),
            BigIntegerNode.valueOf(BigInteger.TWO.pow(70)), DoubleNode.valueOf(Double.NaN), DoubleNode.valueOf(1e20),
            DoubleNode.valueOf(0.5), TextNode.valueOf("10M"), TextNode.valueOf("9007199254740992"),
            TextNode.valueOf("1e20"), TextNode.valueOf("0.5M"), TextNode.valueOf("-3k"), TextNode.valueOf("abc"),
            TextNode.valueOf(""), TextNode.valueOf("a\r\nSet-Cookie: x=1"), TextNode.valueOf("x\ny"),
            TextNode.valueOf("../../etc/passwd"), TextNode.valueOf("Mars/Olympus"), TextNode.valueOf("P1D"),
            TextNode.valueOf("7d"), TextNode.valueOf("-7d"), TextNode.valueOf("0s"), TextNode.valueOf("99999999999d"),
            TextNode.valueOf("{tree}"), TextNode.valueOf("é"), TextNode.valueOf("\u0000"),
            TextNode.valueOf("x".repeat(5000)), TextNode.valueOf("acme"), TextNode.valueOf("support"),
            TextNode.valueOf("hard_stop"), TextNode.valueOf("rolling"), BooleanNode.TRUE, NullNode.instance,
            JsonNodeFactory.instance.objectNode(), JsonNodeFactory.instance.arrayNode());

    private static final List<JsonNode> HOSTILE_TEXT = HOSTILE.stream().filter(JsonNode::isTextual).toList();

    private static final List<String> FIELDS = List.of("id", "parent", "windows", "period", "length", "limits",
            "total", "input", "output", "thresholds", "at", "policy", "degrade", "models", "route", "features",
            "default_feature", "budget", "name", "sha256", "zone", "type", "uri", "timeout", "unknown_field");

    @Provide
    Arbitrary<String> configs() {
        // mostly one or two changes, so that many mutants still load and their safety is checked
        Arbitrary<Integer> mutations = Arbitraries.frequency(Tuple.of(6, 1), Tuple.of(3, 2), Tuple.of(1, 5));
        Arbitrary<String> format = Arbitraries.frequency(Tuple.of(4, "yaml"), Tuple.of(2, "json"),
                Tuple.of(1, "broken-text"));
        return Combinators.combine(Arbitraries.longs(), mutations, format).as(ConfigLoaderFuzzProperties::mutated);
    }

    @Property(tries = 800)
    void anyConfigLoadsSafelyOrFailsWithErrorsThatSayWhatIsWrong(@ForAll("configs") String text) {
        EngineConfig config;
        try {
            config = ConfigLoader.parse(text);
        } catch (ConfigException e) {
            assertThat(e.errors()).isNotEmpty();
            assertThat(e.errors()).allSatisfy(err -> {
                assertThat(err.message()).isNotBlank();
                assertThat(err.path()).isNotNull();
            });
            return;
        }
        assertSafe(config);
    }

    @Example
    void everyStringOfAValidConfigMadeHostileIsRefusedOrHarmless() throws IOException {
        // exhaustive where the property samples: each string leaf of the seed, each hostile text
        List<JsonNode[]> places = new ArrayList<>();
        collect(BASE, places);
        int positions = places.size();
        int loaded = 0;
        for (int p = 0; p < positions; p++) {
            if (!places.get(p)[1].isTextual()) {
                continue;
            }
            for (JsonNode text : HOSTILE_TEXT) {
                JsonNode copy = BASE.deepCopy();
                List<JsonNode[]> copied = new ArrayList<>();
                collect(copy, copied);
                replace(copied.get(p), text);
                try {
                    assertSafe(ConfigLoader.parse(YAML.writeValueAsString(copy)));
                    loaded++;
                } catch (ConfigException e) {
                    assertThat(e.errors()).allSatisfy(err -> assertThat(err.message()).isNotBlank());
                }
            }
        }
        assertThat(loaded).as("some hostile strings are legal where they stand (e.g. a zone, a URI)").isPositive();
    }

    private static void replace(JsonNode[] place, JsonNode with) {
        if (place[0] instanceof ObjectNode o) {
            o.set(fieldOf(o, place[1]), with);
        } else if (place[0] instanceof ArrayNode a) {
            a.set(indexOf(a, place[1]), with);
        }
    }

    /** What a config that loaded guarantees to the engine, the stores and the response headers. */
    static void assertSafe(EngineConfig c) {
        assertThat(c.leaseTtl()).isPositive();
        assertThat(c.featureHeader()).matches("[A-Za-z0-9-]+");
        assertThat(c.userHeader()).matches("[A-Za-z0-9-]+");
        for (Budget b : c.budgets().budgets()) {
            assertThat(b.id()).matches(ConfigLoader.ID);
            assertThat(b.windows()).isNotEmpty();
            for (WindowLimit w : b.windows()) {
                assertLimits(w.limits());
            }
            assertThat(b.degrade().route()).matches(ConfigLoader.ID);
            b.degrade().models().forEach((from, to) -> {
                assertHeaderSafe(from);
                assertHeaderSafe(to);
            });
        }
        for (VirtualKey k : c.keys()) {
            assertThat(k.name()).matches(ConfigLoader.ID);
            assertThat(c.budgets().contains(k.budget())).isTrue();
            k.features().forEach(f -> assertThat(c.budgets().isWithin(f, k.budget())).as(f).isTrue());
        }
    }

    private static void assertLimits(Limits l) {
        for (long v : new long[] {l.input(), l.output(), l.total()}) {
            assertThat(v == Limits.NONE || v > 0 && v <= TokenUsage.MAX).as("limit %d", v).isTrue();
        }
    }

    /** A value that may end up in a response header: no control characters (CR, LF, NUL...). */
    static void assertHeaderSafe(String s) {
        assertThat(s.chars().noneMatch(ch -> ch < 0x20 || ch == 0x7f)).as("header-safe: %s", s.replace("\r", "\\r")
                .replace("\n", "\\n")).isTrue();
    }

    static String mutated(long seed, int mutations, String format) {
        Random r = new Random(seed);
        JsonNode tree = BASE.deepCopy();
        for (int i = 0; i < mutations; i++) {
            tree = mutate(tree, r);
        }
        try {
            String text = format.equals("json") ? JSON.writeValueAsString(tree) : YAML.writeValueAsString(tree);
            return format.equals("broken-text") ? breakText(text, r) : text;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** One random change somewhere in the tree; often a string (an id, a model, a zone) made hostile. */
    private static JsonNode mutate(JsonNode root, Random r) {
        List<JsonNode[]> places = new ArrayList<>(); // {container, node}
        collect(root, places);
        if (r.nextInt(5) < 2) {
            List<JsonNode[]> strings = places.stream().filter(p -> p[1].isTextual()).toList();
            JsonNode[] place = strings.get(r.nextInt(strings.size()));
            replace(place, HOSTILE_TEXT.get(r.nextInt(HOSTILE_TEXT.size())));
            return root;
        }
        JsonNode[] place = places.get(r.nextInt(places.size()));
        JsonNode container = place[0];
        JsonNode node = place[1];
        JsonNode hostile = HOSTILE.get(r.nextInt(HOSTILE.size()));
        if (container instanceof ObjectNode o) {
            String field = fieldOf(o, node);
            switch (r.nextInt(5)) {
                case 0 -> o.set(field, hostile);
                case 1 -> o.remove(field);
                case 2 -> o.set(FIELDS.get(r.nextInt(FIELDS.size())), hostile);
                case 3 -> o.set(FIELDS.get(r.nextInt(FIELDS.size())), node.deepCopy());
                default -> o.set(field, JsonNodeFactory.instance.arrayNode().add(hostile));
            }
        } else if (container instanceof ArrayNode a) {
            int index = indexOf(a, node);
            switch (r.nextInt(4)) {
                case 0 -> a.set(index, hostile);
                case 1 -> a.remove(index);
                case 2 -> a.add(node.deepCopy()); // a duplicate: the same id twice, the same key twice
                default -> pointParentElsewhere(a, r);
            }
        }
        return root;
    }

    /** Budgets whose parent is another budget, itself, or a budget below it (a cycle). */
    private static void pointParentElsewhere(ArrayNode a, Random r) {
        JsonNode from = a.get(r.nextInt(a.size()));
        JsonNode to = a.get(r.nextInt(a.size()));
        if (from instanceof ObjectNode f && to.has("id")) {
            f.set("parent", to.get("id"));
        }
    }

    private static void collect(JsonNode n, List<JsonNode[]> out) {
        if (n.isObject()) {
            n.fields().forEachRemaining(e -> {
                out.add(new JsonNode[] {n, e.getValue()});
                collect(e.getValue(), out);
            });
        } else if (n.isArray()) {
            for (JsonNode c : n) {
                out.add(new JsonNode[] {n, c});
                collect(c, out);
            }
        }
    }

    private static String fieldOf(ObjectNode o, JsonNode child) {
        var it = o.fields();
        while (it.hasNext()) {
            var e = it.next();
            if (e.getValue() == child) {
                return e.getKey();
            }
        }
        throw new IllegalStateException("not a child");
    }

    private static int indexOf(ArrayNode a, JsonNode child) {
        for (int i = 0; i < a.size(); i++) {
            if (a.get(i) == child) {
                return i;
            }
        }
        throw new IllegalStateException("not a child");
    }

    /** YAML broken as text: a cut, or a character YAML gives meaning to. */
    private static String breakText(String text, Random r) {
        int at = r.nextInt(text.length() + 1);
        if (r.nextInt(3) == 0) {
            return text.substring(0, at);
        }
        String junk = "\t:&*!%|>{}[]-#'\"\n?@`";
        return text.substring(0, at) + junk.charAt(r.nextInt(junk.length())) + text.substring(at);
    }

    private static JsonNode base() {
        try (InputStream in = ConfigLoaderFuzzProperties.class
                .getResourceAsStream("/fuzz-corpus/config/valid-every-section.yaml")) {
            return YAML.readTree(in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
