package dev.tokenbudget.fuzz;

import dev.tokenbudget.fuzz.JsonScannerFuzzProperties.Scan;
import dev.tokenbudget.provider.json.JsonScanner;
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
 * One scanner read through a stream's documents ({@link JsonScanner#endDocument()}, as the usage
 * reader reads SSE events and event-stream frames) reports for each document the same scalars and
 * the same verdict (well-formed or not) as a scanner made for that document alone: whatever came
 * before it (a malformed document, a number or a separator left at the end, an open string), however
 * it is chunked, and whatever it starts with (a byte order mark, blanks, a scalar).
 */
class JsonScannerDocumentsProperties {

    /** Documents that end in a way a parser kept for the next document must not carry over. */
    private static final List<String> AWKWARD = List.of("[DONE]", "", " ", "{}", "12", "{\"usage\":{\"prompt_tokens\":3}} 7",
            "{\"model\":\"a\"},", "{\"model\":\"a\"}:", "{\"model\":\"a", "{\"usage\":{\"prompt_tokens\":", "\"open",
            "tru", "-", "1.", "{\"model\":\"a\"} {", "\uFEFF{\"model\":\"bom\"}", " {\"model\":\"blank first\"}",
            "{\"type\":\"x\"}\uFEFF", "{\"model\":\"a\"}]", "{\"model\":\"esc\\", "/* c */ {\"model\":\"a\"}", "nul",
            "{\"usage\":null}", "{\"usage\":{\"prompt_tokens\":12}}");

    @Provide
    Arbitrary<List<byte[]>> streams() {
        Arbitrary<String> hostile = HostileJson.value(3).list().ofMinSize(1).ofMaxSize(2)
                .map(vs -> String.join(" ", vs));
        Arbitrary<byte[]> doc = Arbitraries.frequency(
                net.jqwik.api.Tuple.of(3, "hostile"), net.jqwik.api.Tuple.of(2, "awkward"))
                .flatMap(kind -> kind.equals("awkward") ? Arbitraries.of(AWKWARD)
                        .map(s -> s.getBytes(StandardCharsets.UTF_8))
                        : Combinators.combine(hostile, Arbitraries.longs())
                        .as((t, seed) -> HostileResponse.mutate(t.getBytes(StandardCharsets.UTF_8), seed)));
        return doc.list().ofMinSize(1).ofMaxSize(8);
    }

    @Provide
    Arbitrary<Set<String>> paths() {
        return Arbitraries.of("usage.prompt_tokens", "usage.input_tokens", "model", "type", "usage", "error.message",
                "choices.finish_reason", "message.usage.input_tokens").set().ofMinSize(1).ofMaxSize(5);
    }

    @Property(tries = 1500)
    void eachDocumentScansAsIfAlone(@ForAll("streams") List<byte[]> docs, @ForAll("paths") Set<String> paths,
                                    @ForAll long seed) {
        List<String> seen = new ArrayList<>();
        JsonScanner shared = new JsonScanner(JsonScanner.Paths.of(paths), (path, v) -> seen.add(path + "=" + v));
        for (int i = 0; i < docs.size(); i++) {
            byte[] d = docs.get(i);
            seen.clear();
            Chunks.feed(d, Chunks.cuts(d.length, seed + i), shared::feed);
            boolean failed = shared.endDocument() != null;

            Scan alone = JsonScannerFuzzProperties.scan(d, paths, new int[0], false);
            assertThat(new Scan(List.copyOf(seen), failed)).as("document %d of %s", i, show(docs)).isEqualTo(alone);
        }
        shared.close();
    }

    private static List<String> show(List<byte[]> docs) {
        return docs.stream().map(Chunks::show).toList();
    }
}
