package dev.tokenbudget.provider;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/** Every recorded payload yields its expected usage, whole and split at any byte. */
class PayloadUsageTest {

    static List<Payloads.Payload> payloads() {
        return Payloads.all();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("payloads")
    void yieldsTheDocumentedUsage(Payloads.Payload p) {
        assertThat(Payloads.describe(Payloads.read(p))).isEqualTo(Payloads.describe(p.expected()));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("payloads")
    void yieldsTheSameUsageWhenSplitAtEveryByte(Payloads.Payload p) {
        String expected = Payloads.describe(p.expected());
        for (int cut = 0; cut <= p.bytes().length; cut++) {
            assertThat(Payloads.describe(Payloads.read(p, cut))).as("split at byte %d", cut).isEqualTo(expected);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("payloads")
    void yieldsTheSameUsageFedInManyRandomPieces(Payloads.Payload p) {
        String expected = Payloads.describe(p.expected());
        Random random = new Random(p.name().hashCode());
        int n = p.bytes().length;
        for (int round = 0; round < 300; round++) {
            int pieces = 1 + random.nextInt(Math.min(n, 40));
            int[] cuts = random.ints(pieces, 0, n + 1).sorted().toArray();
            assertThat(Payloads.describe(Payloads.read(p, cuts))).as("cuts %s", java.util.Arrays.toString(cuts))
                    .isEqualTo(expected);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("payloads")
    void yieldsTheSameUsageFedOneByteAtATime(Payloads.Payload p) {
        UsageReader r = UsageReader.of(p.family(), p.endpoint(), p.contentType());
        for (int i = 0; i < p.bytes().length; i++) {
            r.feed(p.bytes(), i, 1);
        }
        assertThat(Payloads.describe(r.finish())).isEqualTo(Payloads.describe(p.expected()));
    }

    @Test
    void thereAreFixturesForEveryFamily() {
        assertThat(payloads()).extracting(Payloads.Payload::family).contains(Family.values());
    }
}
