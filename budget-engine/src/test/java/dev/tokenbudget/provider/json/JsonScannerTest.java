package dev.tokenbudget.provider.json;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class JsonScannerTest {

    private static final JsonScanner.Paths PATHS = JsonScanner.Paths.of("model", "usage.in", "usage.deep.x",
            "list");

    private static Map<String, Scalar> scan(String json, int... cuts) {
        Map<String, Scalar> seen = new LinkedHashMap<>();
        JsonScanner s = new JsonScanner(PATHS, seen::put);
        byte[] b = json.getBytes(StandardCharsets.UTF_8);
        int from = 0;
        for (int c : cuts) {
            s.feed(b, from, c - from);
            from = c;
        }
        s.feed(b, from, b.length - from);
        s.end();
        if (s.failure() != null) {
            seen.put("failure", new Scalar(Scalar.Kind.STRING, s.failure(), Scalar.INVALID));
        }
        return seen;
    }

    @Test
    void scannersInterleavedOnOneThreadReadTheirOwnTextAfterOthersEndedAndGaveTheirBuffersBack() {
        // an ended scanner hands its buffers to Jackson's per-thread recycler and its names to the
        // shared table: one still reading, begun before it, and ones begun after must be unaffected
        Map<String, Scalar> a = new LinkedHashMap<>();
        JsonScanner open = new JsonScanner(PATHS, a::put);
        byte[] first = "{\"usage\":{\"in\":41},\"model\":\"gpt-".getBytes(StandardCharsets.UTF_8);
        open.feed(first, 0, first.length);
        for (int i = 0; i < 50; i++) {
            String model = "m" + i + "-" + "x".repeat(i * 40);
            Map<String, Scalar> m = scan("{\"model\":\"" + model + "\",\"usage\":{\"in\":" + i + ",\"name" + i
                    + "\":1}}", i % 7);
            assertThat(m.get("model").text()).isEqualTo(model.length() > Scalar.TEXT_CAP
                    ? model.substring(0, Scalar.TEXT_CAP) : model);
            assertThat(m.get("usage.in").count()).isEqualTo(i);
        }
        byte[] rest = "4o-mini\",\"usage\":{\"deep\":{\"x\":7}}}".getBytes(StandardCharsets.UTF_8);
        open.feed(rest, 0, rest.length);
        open.end();
        assertThat(open.failure()).isNull();
        assertThat(a.get("model").text()).isEqualTo("gpt-4o-mini");
        assertThat(a.get("usage.in").count()).isEqualTo(41);
        assertThat(a.get("usage.deep.x").count()).isEqualTo(7);
    }

    @Test
    void reportsOnlyTheWantedPaths() {
        Map<String, Scalar> m = scan("{\"model\":\"m\",\"other\":{\"model\":\"no\"},\"usage\":{\"in\":5,\"out\":6,"
                + "\"deep\":{\"x\":7}}}");
        assertThat(m.keySet()).containsExactly("model", "usage.in", "usage.deep.x");
        assertThat(m.get("usage.in").count()).isEqualTo(5);
        assertThat(m.get("model").text()).isEqualTo("m");
    }

    @Test
    void arraysAddNoPathSegment() {
        Map<String, Scalar> m = scan("[{\"usage\":{\"in\":1}},{\"usage\":{\"in\":2}}]");
        assertThat(m.get("usage.in").count()).isEqualTo(2);
        assertThat(scan("{\"list\":[3,4]}").get("list").count()).isEqualTo(4);
    }

    @Test
    void countsOutsideZeroTo2Pow53AreInvalid() {
        assertThat(scan("{\"usage\":{\"in\":-1}}").get("usage.in").isCount()).isFalse();
        assertThat(scan("{\"usage\":{\"in\":9223372036854775808}}").get("usage.in").isCount()).isFalse();
        assertThat(scan("{\"usage\":{\"in\":9007199254740992}}").get("usage.in").isCount()).isFalse();
        assertThat(scan("{\"usage\":{\"in\":9007199254740991}}").get("usage.in").count())
                .isEqualTo(9007199254740991L);
        assertThat(scan("{\"usage\":{\"in\":\"12\"}}").get("usage.in").isCount()).isFalse();
        assertThat(scan("{\"usage\":{\"in\":1.5}}").get("usage.in").isCount()).isFalse();
        assertThat(scan("{\"usage\":{\"in\":12.0}}").get("usage.in").count()).isEqualTo(12);
        assertThat(scan("{\"usage\":{\"in\":1e400}}").get("usage.in").isCount()).isFalse();
    }

    @Test
    void nanAndInfinityAreMalformedNotNumbers() {
        assertThat(scan("{\"usage\":{\"in\":NaN}}").get("failure").text()).startsWith("malformed JSON");
        assertThat(scan("{\"usage\":{\"in\":Infinity}}").get("failure")).isNotNull();
    }

    @Test
    void aTrailingCommaIsMalformedWhereverTheChunksAreCut() {
        // found by JsonScannerFuzzProperties: Jackson's non-blocking parser took {"in":1,} as
        // well-formed when a chunk ended after the comma
        for (String json : new String[] {"{\"usage\":{\"in\":1,}}", "{\"usage\":{\"in\":1 , \n }}", "1,"}) {
            for (int cut = 0; cut <= json.length(); cut++) {
                assertThat(scan(json, cut).get("failure")).as("%s cut at %d", json, cut).isNotNull();
            }
        }
        // a comma inside a string is text, and a comma before the next field is only held back
        assertThat(scan("{\"model\":\"a,\",\"usage\":{\"in\":4}}", 13, 14).get("model").text()).isEqualTo("a,");
        Map<String, Scalar> m = scan("{\"model\":\"m\",  \"usage\":{\"in\":4}}", 13, 14, 15, 16);
        assertThat(m.get("usage.in").count()).isEqualTo(4);
        assertThat(m).doesNotContainKey("failure");
    }

    @Test
    void aMissingValueAfterAColonIsMalformedWhereverTheChunksAreCut() {
        // found by JsonScannerFuzzProperties in CI: Jackson's non-blocking parser took [{")":\r}]
        // as well-formed when a chunk ended after the colon
        for (String json : new String[] {"[{\")\":\r}]", "{\"usage\":{\"in\": }}", "{\"model\":}"}) {
            for (int cut = 0; cut <= json.length(); cut++) {
                assertThat(scan(json, cut).get("failure")).as("%s cut at %d", json, cut).isNotNull();
            }
        }
        // a colon inside a string is text, and a colon before its value is only held back
        assertThat(scan("{\"model\":\"a:\",\"usage\":{\"in\":4}}", 13, 14).get("model").text()).isEqualTo("a:");
        for (int cut = 0; cut <= 30; cut++) {
            Map<String, Scalar> m = scan("{\"model\" : \n \"m\",\"usage\":{\"in\":4}}", cut);
            assertThat(m.get("usage.in").count()).as("cut %d", cut).isEqualTo(4);
            assertThat(m.get("model").text()).isEqualTo("m");
            assertThat(m).doesNotContainKey("failure");
        }
    }

    @Test
    void truncatedInputIsAFailureWithWhatWasSeenKept() {
        Map<String, Scalar> m = scan("{\"model\":\"m\",\"usage\":{\"in\":5");
        assertThat(m.get("model").text()).isEqualTo("m");
        assertThat(m.get("failure").text()).contains("truncated");
    }

    @Test
    void invalidUtf8IsAFailureNotAnException() {
        JsonScanner s = new JsonScanner(PATHS, (p, v) -> { });
        byte[] b = {'{', '"', 'm', 'o', 'd', 'e', 'l', '"', ':', '"', (byte) 0xC3, (byte) 0x28, '"', '}'};
        s.feed(b, 0, b.length);
        s.end();
        assertThat(s.failure()).startsWith("malformed JSON");
    }

    @Test
    void longStringsAreCutInTheReport() {
        String longModel = "m".repeat(5000);
        assertThat(scan("{\"model\":\"" + longModel + "\"}").get("model").text()).hasSize(Scalar.TEXT_CAP);
    }

    @Test
    void multiByteTextSplitAnywhereIsDecoded() {
        String json = "{\"model\":\"gpt-ü-你好-👋\"}";
        int n = json.getBytes(StandardCharsets.UTF_8).length;
        for (int cut = 0; cut <= n; cut++) {
            assertThat(scan(json, cut).get("model").text()).as("cut %d", cut).isEqualTo("gpt-ü-你好-👋");
        }
    }

    @Test
    void deepNestingBeyondTheLimitFailsCleanly() {
        String deep = "[".repeat(2000) + "]".repeat(2000);
        assertThat(scan(deep).get("failure").text()).startsWith("malformed JSON");
    }

    @Test
    void anIntegerKeepsItsLiteralWhetherOrNotItIsACount() {
        // a count's text is made when asked for, as Jackson gives it (-0 as 0); values that are not
        // counts keep the literal Jackson read
        String[] json = {"0", "-0", "12", "9007199254740991", "9007199254740992", "-5", "123456789012345678901"};
        String[] literals = {"0", "0", "12", "9007199254740991", "9007199254740992", "-5", "123456789012345678901"};
        long[] counts = {0, 0, 12, Scalar.MAX_COUNT, Scalar.INVALID, Scalar.INVALID, Scalar.INVALID};
        for (int i = 0; i < literals.length; i++) {
            Scalar v = scan("{\"usage\":{\"in\":" + json[i] + "}}").get("usage.in");
            assertThat(v.text()).isEqualTo(literals[i]);
            assertThat(v.count()).as(literals[i]).isEqualTo(counts[i]);
            assertThat(v).isEqualTo(new Scalar(Scalar.Kind.NUMBER, literals[i], counts[i]));
            assertThat(v.toString()).isEqualTo("Scalar[kind=NUMBER, text=" + literals[i] + ", count=" + counts[i] + "]");
        }
    }

    @Test
    void oneScannerReadsAStreamOfDocumentsPastTheBytesAParserServes() {
        // every document well-formed: the parser is kept, then let go after REUSE_CAP bytes and renewed
        List<Long> seen = new java.util.ArrayList<>();
        JsonScanner s = new JsonScanner(PATHS, (path, v) -> seen.add(v.count()));
        long fed = 0;
        for (int i = 0; i < 3000; i++) {
            String doc = "{\"name" + i + "\":\"" + (i % 500 == 0 ? "x".repeat(20_000) : "") + "\",\"usage\":{\"in\":"
                    + i + "}}";
            byte[] b = doc.getBytes(StandardCharsets.UTF_8);
            fed += b.length;
            s.feed(b, 0, b.length / 2);
            s.feed(b, b.length / 2, b.length - b.length / 2);
            assertThat(s.endDocument()).as("document %d", i).isNull();
            assertThat(seen).as("document %d", i).hasSize(i + 1).last().isEqualTo((long) i);
        }
        assertThat(fed).isGreaterThan(3L * JsonScanner.REUSE_CAP);
        s.close();
    }
}
