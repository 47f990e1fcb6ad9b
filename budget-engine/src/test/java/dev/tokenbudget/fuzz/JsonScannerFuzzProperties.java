package dev.tokenbudget.fuzz;

import dev.tokenbudget.provider.json.JsonScanner;
import dev.tokenbudget.provider.json.Scalar;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Fuzzing of the incremental JSON scanner under the codecs: any text (several roots, absurd
 * literals, broken syntax) over any set of wanted paths gives the same scalars and the same
 * failure whatever the chunking, never an exception, and only well-formed scalars (a count is a
 * valid count or marked invalid; strings are capped).
 */
class JsonScannerFuzzProperties {

    private static final List<String> PATHS = List.of("usage.prompt_tokens", "usage.input_tokens", "model", "type",
            "usageMetadata.promptTokenCount", "message.usage.input_tokens", "response.usage.output_tokens",
            "choices.finish_reason", "usage", "candidates.finishReason", "error.message");

    /**
     * What a scanner reported, in order, and whether it failed (the failure's wording may differ
     * by chunking: Jackson reports an over-long number with the length it had seen when it stopped).
     */
    record Scan(List<String> values, boolean failed) {
    }

    @Provide
    Arbitrary<byte[]> texts() {
        Arbitrary<String> roots = HostileJson.value(4).list().ofMinSize(1).ofMaxSize(3)
                .map(vs -> String.join(" \n", vs));
        return Combinators.combine(roots, Arbitraries.longs())
                .as((t, seed) -> HostileResponse.mutate(t.getBytes(StandardCharsets.UTF_8), seed));
    }

    @Provide
    Arbitrary<Set<String>> paths() {
        return Arbitraries.of(PATHS).set().ofMinSize(1).ofMaxSize(5);
    }

    @Property(tries = 1500)
    void anyTextScansAlikeForEveryChunkingAndNeverThrows(@ForAll("texts") byte[] text, @ForAll("paths") Set<String> paths,
                                                        @ForAll long seed) {
        Scan whole = scan(text, paths, new int[0], false);
        Scan chunked = scan(text, paths, Chunks.cuts(text.length, seed), false);

        assertThat(chunked).as(Chunks.show(text)).isEqualTo(whole);
        if (text.length <= 4096) {
            assertThat(scan(text, paths, null, true)).as(Chunks.show(text)).isEqualTo(whole);
        }
    }

    static Scan scan(byte[] text, Set<String> paths, int[] cuts, boolean bytewise) {
        List<String> seen = new ArrayList<>();
        JsonScanner s = new JsonScanner(JsonScanner.Paths.of(paths), (path, v) -> {
            assertThat(paths).contains(path);
            assertThat(v.count()).isBetween(Scalar.INVALID, Scalar.MAX_COUNT);
            if (v.text() != null) {
                assertThat(v.text().length()).isLessThanOrEqualTo(Scalar.TEXT_CAP);
            }
            seen.add(path + "=" + v);
        });
        if (bytewise) {
            Chunks.feedBytewise(text, s::feed);
        } else {
            Chunks.feed(text, cuts, s::feed);
        }
        s.end();
        return new Scan(seen, s.failure() != null);
    }
}
