package dev.tokenbudget.provider.json;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

import java.nio.charset.StandardCharsets;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The separator hold follows strings as the byte-by-byte rule does, wherever the text is cut: for
 * every piece, the same trailing separator (or none) and the same state at its end (inside a string
 * or not). The rule below is the walk as first written (every byte through one state machine);
 * {@link HeldSeparator} passes over the inside of strings with a loop of its own, which this holds to
 * the rule on texts thick with quotes, backslashes (escaped quotes, escaped backslashes), separators
 * and whitespace.
 */
class HeldSeparatorProperties {

    private static final byte[] ALPHABET = "\"\"\\\\,,::  \n\t{}[]a1".getBytes(StandardCharsets.UTF_8);

    @Provide
    Arbitrary<byte[]> texts() {
        return Arbitraries.integers().between(0, ALPHABET.length - 1).list().ofMaxSize(60).map(l -> {
            byte[] b = new byte[l.size()];
            for (int i = 0; i < b.length; i++) {
                b[i] = ALPHABET[l.get(i)];
            }
            return b;
        });
    }

    @Property(tries = 5000)
    void findsTheSeparatorsTheByteByByteRuleFinds(@ForAll("texts") byte[] text, @ForAll long seed) {
        Random r = new Random(seed);
        HeldSeparator held = new HeldSeparator((b, from, to) -> true);
        Rule rule = new Rule();
        int at = 0;
        while (at < text.length) {
            int n = 1 + r.nextInt(Math.min(text.length - at, 1 + r.nextInt(12)));
            assertThat(held.track(text, at, at + n)).as("separator in [%d, %d) of %s", at, at + n,
                    new String(text, StandardCharsets.ISO_8859_1)).isEqualTo(rule.track(text, at, at + n));
            assertThat(held.insideString()).isEqualTo(rule.inString);
            at += n;
        }
    }

    /** The rule, byte by byte, as {@link HeldSeparator} first implemented it. */
    private static final class Rule {
        boolean inString;
        private boolean escaped;

        int track(byte[] b, int from, int to) {
            int separator = -1;
            for (int i = from; i < to; i++) {
                byte c = b[i];
                if (inString) {
                    if (escaped) {
                        escaped = false;
                    } else if (c == '\\') {
                        escaped = true;
                    } else if (c == '"') {
                        inString = false;
                    }
                    separator = -1;
                } else if (c == ',' || c == ':') {
                    separator = i;
                } else if (c != ' ' && c != '\n' && c != '\r' && c != '\t') {
                    inString = c == '"';
                    separator = -1;
                }
            }
            return separator;
        }
    }
}
