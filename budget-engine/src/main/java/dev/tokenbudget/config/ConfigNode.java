package dev.tokenbudget.config;

import com.fasterxml.jackson.databind.JsonNode;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * A position in a config tree that reads typed values and records errors under its path, so
 * that loading goes on after a bad field and reports every error at once.
 */
final class ConfigNode {

    private final JsonNode node;
    private final String path;
    private final List<ConfigError> errors;

    ConfigNode(JsonNode node, String path, List<ConfigError> errors) {
        this.node = node;
        this.path = path;
        this.errors = errors;
    }

    String path() {
        return path;
    }

    boolean isMissing() {
        return node == null || node.isMissingNode() || node.isNull();
    }

    JsonNode raw() {
        return node;
    }

    void error(String message) {
        errors.add(new ConfigError(path, message));
    }

    String childPath(String name) {
        return path.isEmpty() ? name : path + "." + name;
    }

    ConfigNode get(String name) {
        JsonNode child = node != null && node.isObject() ? node.get(name) : null;
        return new ConfigNode(child, childPath(name), errors);
    }

    boolean has(String name) {
        return !get(name).isMissing();
    }

    /** Requires an object (or absence) and reports fields outside {@code allowed}. */
    boolean expectObject(Set<String> allowed) {
        if (isMissing()) {
            return false;
        }
        if (!node.isObject()) {
            error("must be a mapping, was " + describe(node));
            return false;
        }
        Iterator<String> it = node.fieldNames();
        while (it.hasNext()) {
            String f = it.next();
            if (!allowed.contains(f)) {
                errors.add(new ConfigError(childPath(f), "unknown field" + suggestion(f, allowed)
                        + "; allowed here: " + String.join(", ", allowed.stream().sorted().toList())));
            }
        }
        return true;
    }

    private static String suggestion(String f, Set<String> allowed) {
        String best = null;
        int bestDist = 3;
        for (String a : allowed) {
            int d = distance(f, a);
            if (d < bestDist) {
                bestDist = d;
                best = a;
            }
        }
        return best == null ? "" : " (did you mean '" + best + "'?)";
    }

    /** Levenshtein distance: how many single-character edits turn {@code a} into {@code b}. */
    static int distance(String a, String b) {
        int[] prev = new int[b.length() + 1];
        int[] cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            prev[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.length()];
    }

    List<ConfigNode> list() {
        List<ConfigNode> out = new ArrayList<>();
        if (isMissing()) {
            return out;
        }
        if (!node.isArray()) {
            error("must be a list, was " + describe(node));
            return out;
        }
        for (int i = 0; i < node.size(); i++) {
            out.add(new ConfigNode(node.get(i), path + "[" + i + "]", errors));
        }
        return out;
    }

    List<String> fieldNames() {
        List<String> out = new ArrayList<>();
        if (node != null && node.isObject()) {
            node.fieldNames().forEachRemaining(out::add);
        }
        return out;
    }

    String string(String def) {
        if (isMissing()) {
            return def;
        }
        if (!node.isValueNode() || node.isBoolean()) {
            error("must be a string, was " + describe(node));
            return def;
        }
        return node.asText();
    }

    String requiredString() {
        if (isMissing()) {
            error("is required");
            return null;
        }
        String s = string(null);
        if (s != null && s.isBlank()) {
            error("must not be empty");
            return null;
        }
        return s;
    }

    /**
     * An object of strings ({@code prompts:}, a degrade section's {@code models:}) in config order;
     * a value that is not a non-empty string is an error and left out.
     */
    Map<String, String> stringMap() {
        Map<String, String> out = new LinkedHashMap<>();
        if (!expectObject(Set.copyOf(fieldNames()))) {
            return out;
        }
        for (String k : fieldNames()) {
            String v = get(k).requiredString();
            if (v != null) {
                out.put(k, v);
            }
        }
        return out;
    }

    boolean bool(boolean def) {
        if (isMissing()) {
            return def;
        }
        if (!node.isBoolean()) {
            error("must be true or false, was " + describe(node));
            return def;
        }
        return node.asBoolean();
    }

    /** A positive token count: a number or a string such as {@code 20M}; -1 when absent or bad. */
    long positiveTokens() {
        if (isMissing()) {
            return -1;
        }
        long v;
        if (node.isIntegralNumber()) {
            if (!node.canConvertToLong()) {
                error("must be at most 2^53-1 (" + Quantities.MAX_TOKENS + "), was " + node.asText());
                return -1;
            }
            v = node.asLong();
            if (v > Quantities.MAX_TOKENS) {
                error("must be at most 2^53-1 (" + Quantities.MAX_TOKENS + "), was " + v);
                return -1;
            }
        } else if (node.isTextual()) {
            try {
                v = Quantities.tokens(node.asText());
            } catch (IllegalArgumentException e) {
                error(e.getMessage());
                return -1;
            }
        } else {
            error("must be a whole number of tokens, was " + describe(node));
            return -1;
        }
        if (v <= 0) {
            error("must be > 0, was " + v);
            return -1;
        }
        return v;
    }

    Duration duration(Duration def) {
        if (isMissing()) {
            return def;
        }
        try {
            return Quantities.duration(node.asText());
        } catch (IllegalArgumentException e) {
            error(e.getMessage());
            return def;
        }
    }

    int integer(int def, int min, int max) {
        if (isMissing()) {
            return def;
        }
        if (!node.isIntegralNumber() || node.asLong() < min || node.asLong() > max) {
            error("must be a whole number in " + min + ".." + max + ", was " + describe(node));
            return def;
        }
        return node.asInt();
    }

    double number(double def) {
        if (isMissing()) {
            return def;
        }
        if (!node.isNumber() || node.asDouble() < 0 || !Double.isFinite(node.asDouble())) {
            error("must be a number >= 0, was " + describe(node));
            return def;
        }
        return node.asDouble();
    }

    <E extends Enum<E>> E enumValue(Class<E> type, E def, Function<String, String> normalise) {
        if (isMissing()) {
            return def;
        }
        String s = string(null);
        if (s == null) {
            return def;
        }
        for (E e : type.getEnumConstants()) {
            if (e.name().equalsIgnoreCase(normalise.apply(s))) {
                return e;
            }
        }
        List<String> names = new ArrayList<>();
        for (E e : type.getEnumConstants()) {
            names.add(e.name().toLowerCase(java.util.Locale.ROOT));
        }
        error("must be one of " + String.join(", ", names) + ", was '" + s + "'");
        return def;
    }

    static String describe(JsonNode n) {
        if (n == null || n.isNull()) {
            return "null";
        }
        if (n.isObject()) {
            return "a mapping";
        }
        if (n.isArray()) {
            return "a list";
        }
        if (n.isTextual()) {
            return "'" + n.asText() + "'";
        }
        return n.asText();
    }
}
