package dev.tokenbudget.provider;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tokenbudget.usage.TokenUsage;

import java.util.Map;

/** Reading and changing request fields with the validation every codec shares. */
final class BodyFields {

    private BodyFields() {
    }

    /** A request field that is present but unusable: becomes {@link RequestFacts#problem()}. */
    static final class Invalid extends RuntimeException {
        Invalid(String message) {
            super(message, null, false, false);
        }
    }

    /** A string field, or null when absent or JSON null. */
    static String string(ObjectNode o, String field) {
        JsonNode n = o.get(field);
        if (n == null || n.isNull()) {
            return null;
        }
        if (!n.isTextual()) {
            throw new Invalid("'" + field + "' must be a string, was " + n.getNodeType().name().toLowerCase());
        }
        return n.textValue();
    }

    /** A boolean field, false when absent or JSON null. */
    static boolean bool(ObjectNode o, String field) {
        JsonNode n = o.get(field);
        if (n == null || n.isNull()) {
            return false;
        }
        if (!n.isBoolean()) {
            throw new Invalid("'" + field + "' must be true or false, was " + n);
        }
        return n.booleanValue();
    }

    /**
     * A token count field: -1 when absent or JSON null; a count above 2^53-1 is capped there (the
     * engine caps reservations anyway); anything not a whole number >= {@code min} is invalid.
     */
    static long count(ObjectNode o, String field, long min) {
        JsonNode n = o == null ? null : o.get(field);
        if (n == null || n.isNull()) {
            return -1;
        }
        if (n.isInt() || n.isLong()) {
            // the usual case, decided without the BigDecimal and BigInteger the general rule below makes
            long v = n.longValue();
            if (v < 0 || v < min) {
                throw new Invalid("'" + field + "' must be >= " + min + ", was " + abbreviate(n.toString()));
            }
            return Math.min(v, TokenUsage.MAX);
        }
        if (!n.isIntegralNumber() && !(n.isNumber() && n.decimalValue().stripTrailingZeros().scale() <= 0)) {
            throw new Invalid("'" + field + "' must be a whole number, was " + abbreviate(n.toString()));
        }
        if (n.decimalValue().signum() < 0 || n.decimalValue().compareTo(java.math.BigDecimal.valueOf(min)) < 0) {
            throw new Invalid("'" + field + "' must be >= " + min + ", was " + abbreviate(n.toString()));
        }
        return n.canConvertToExactIntegral() && n.bigIntegerValue().bitLength() < 63
                ? Math.min(n.longValue(), TokenUsage.MAX) : TokenUsage.MAX;
    }

    /** An object field, or null when absent or JSON null. */
    static ObjectNode object(ObjectNode o, String field) {
        JsonNode n = o == null ? null : o.get(field);
        if (n == null || n.isNull()) {
            return null;
        }
        if (!n.isObject()) {
            throw new Invalid("'" + field + "' must be an object");
        }
        return (ObjectNode) n;
    }

    /** Number of choices ({@code n}, {@code candidateCount}), 1 when absent. */
    static int choices(ObjectNode o, String field) {
        long n = count(o, field, 1);
        return n < 0 ? 1 : (int) Math.min(n, 1024);
    }

    static String abbreviate(String s) {
        return s.length() > 40 ? s.substring(0, 40) + "..." : s;
    }

    /**
     * Lowers {@code field} to {@code clamp} when it is higher, or adds it (at the end) when absent.
     * @return true when the body changed
     */
    static boolean clamp(ObjectNode o, String field, long clamp) {
        JsonNode n = o.get(field);
        if (n != null && n.isNumber() && n.decimalValue().compareTo(java.math.BigDecimal.valueOf(clamp)) <= 0) {
            return false;
        }
        o.put(field, clamp);
        return true;
    }

    /** Replaces a string field whose whole text is a registered prompt. */
    static boolean swapText(ObjectNode o, String field, Map<String, String> prompts) {
        JsonNode n = o.get(field);
        if (n != null && n.isTextual()) {
            String to = prompts.get(n.textValue());
            if (to != null) {
                o.put(field, to);
                return true;
            }
        }
        return false;
    }

    /**
     * Replaces a system prompt given as a string or as an array of text parts ({@code {"type":
     * "text","text":...}} or Gemini's {@code {"text":...}}): a part whose text is a registered
     * prompt, or a single-text-part array, is swapped.
     */
    static boolean swapPrompt(ObjectNode holder, String field, Map<String, String> prompts) {
        if (prompts.isEmpty()) {
            return false;
        }
        if (swapText(holder, field, prompts)) {
            return true;
        }
        JsonNode n = holder.get(field);
        boolean changed = false;
        if (n instanceof ArrayNode parts) {
            for (JsonNode p : parts) {
                if (p instanceof ObjectNode part) {
                    changed |= swapText(part, "text", prompts);
                }
            }
        }
        return changed;
    }
}
