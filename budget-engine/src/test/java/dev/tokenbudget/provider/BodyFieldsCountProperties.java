package dev.tokenbudget.provider;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

import java.math.BigInteger;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A token count held in an int or long node (what the request parser makes of every integer that
 * fits) is read by a fast path; it must decide exactly as the general rule does for the same
 * number held as a big integer: the same count, or the same error message.
 */
class BodyFieldsCountProperties {

    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    @Provide
    Arbitrary<Long> values() {
        return Arbitraries.oneOf(Arbitraries.longs(), Arbitraries.longs().between(-3, 3),
                Arbitraries.of(Long.MIN_VALUE, Long.MAX_VALUE, (1L << 53) - 1, 1L << 53, (1L << 62) - 1, 1L << 62,
                        -(1L << 62), (long) Integer.MAX_VALUE, (long) Integer.MIN_VALUE));
    }

    @Property(tries = 2000)
    void intAndLongNodesCountAsTheGeneralRuleDoes(@ForAll("values") long v, @ForAll("mins") long min) {
        String general = read(NODES.numberNode(BigInteger.valueOf(v)), min);
        assertThat(read(NODES.numberNode(v), min)).isEqualTo(general);
        if (v == (int) v) {
            assertThat(read(NODES.numberNode((int) v), min)).isEqualTo(general);
        }
    }

    @Provide
    Arbitrary<Long> mins() {
        return Arbitraries.of(-1L, 0L, 1L);
    }

    private static String read(JsonNode n, long min) {
        ObjectNode o = NODES.objectNode();
        o.set("max_tokens", n);
        try {
            return "count " + BodyFields.count(o, "max_tokens", min);
        } catch (BodyFields.Invalid e) {
            return "invalid " + e.getMessage();
        }
    }
}
