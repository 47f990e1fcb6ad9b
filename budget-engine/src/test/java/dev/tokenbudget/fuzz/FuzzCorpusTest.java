package dev.tokenbudget.fuzz;

import dev.tokenbudget.config.ConfigException;
import dev.tokenbudget.config.ConfigLoader;
import dev.tokenbudget.config.EngineConfig;
import dev.tokenbudget.provider.Endpoint;
import dev.tokenbudget.provider.UsageReport;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.fail;

/**
 * Replays the fuzzing corpus under {@code src/test/resources/fuzz-corpus}: inputs the fuzzers found
 * (or that a hostile upstream or operator would try), each checked for the general properties
 * (no exception, valid counts, the same result for every chunking) and, where a {@code .expect}
 * file sits next to it, for the documented result.
 *
 * <ul>
 *   <li>{@code usage/<endpoint>/<name>.json|.sse}: a response body of that endpoint (a directory
 *       named after {@link Endpoint}, lower case). Expectations: {@code usage=unknown} or
 *       {@code usage=<input>/<output>}, {@code complete=true|false}, {@code note~=<text>}.</li>
 *   <li>{@code config/<name>.yaml}: an engine config. Expectations: {@code valid} or
 *       {@code error~=<text>}.</li>
 * </ul>
 *
 * To add a case: drop the input in the right directory, run this test, write the {@code .expect}.
 */
class FuzzCorpusTest {

    private static final long[] SEEDS = {1, 2, 3, 5, 8, 13, 21};

    static Stream<Path> usageCases() {
        return files("usage").filter(p -> p.toString().endsWith(".json") || p.toString().endsWith(".sse"));
    }

    static Stream<Path> configCases() {
        return files("config").filter(p -> p.toString().endsWith(".yaml"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("usageCases")
    void aCorpusResponseIsReadAlikeForEveryChunkingAndAsExpected(Path file) throws IOException {
        Endpoint endpoint = Endpoint.valueOf(file.getParent().getFileName().toString().toUpperCase(Locale.ROOT));
        String contentType = file.toString().endsWith(".sse") ? "text/event-stream" : "application/json";
        byte[] body = Files.readAllBytes(file);

        UsageReport whole = UsageReaderFuzzProperties.read(endpoint, contentType, body, new int[0]);
        for (long seed : SEEDS) {
            assertThat(UsageReaderFuzzProperties.comparable(UsageReaderFuzzProperties.read(endpoint, contentType, body,
                    Chunks.cuts(body.length, seed)))).as("seed %d", seed)
                    .isEqualTo(UsageReaderFuzzProperties.comparable(whole));
        }
        int[] everyByte = new int[body.length];
        for (int i = 0; i < everyByte.length; i++) {
            everyByte[i] = i;
        }
        assertThat(UsageReaderFuzzProperties.comparable(UsageReaderFuzzProperties.read(endpoint, contentType, body,
                everyByte))).as("byte by byte").isEqualTo(UsageReaderFuzzProperties.comparable(whole));
        UsageReaderFuzzProperties.assertValid(whole);

        Map<String, String> expect = expectations(file);
        String usage = expect.get("usage");
        if (usage != null) {
            assertThat(usage.equals("unknown") ? "unknown" : usage).as(whole.toString())
                    .isEqualTo(whole.known() ? whole.inputTokens() + "/" + whole.outputTokens() : "unknown");
        }
        if (expect.containsKey("complete")) {
            assertThat(whole.complete()).as(whole.toString()).isEqualTo(Boolean.parseBoolean(expect.get("complete")));
        }
        if (expect.containsKey("note~")) {
            assertThat(whole.note()).as(whole.toString()).contains(expect.get("note~"));
        }
        if (expect.isEmpty()) {
            fail("no .expect for " + file.getFileName() + "; it read as " + whole);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("configCases")
    void aCorpusConfigLoadsSafelyOrFailsAsExpected(Path file) throws IOException {
        Map<String, String> expect = expectations(file);
        if (expect.containsKey("valid")) {
            EngineConfig config = ConfigLoader.load(file);
            ConfigLoaderFuzzProperties.assertSafe(config);
        } else if (expect.containsKey("error~")) {
            assertThatThrownBy(() -> ConfigLoader.load(file)).isInstanceOf(ConfigException.class)
                    .hasMessageContaining(expect.get("error~"))
                    .satisfies(e -> assertThat(((ConfigException) e).errors())
                            .allSatisfy(err -> assertThat(err.message()).isNotBlank()));
        } else {
            fail("no .expect for " + file.getFileName());
        }
    }

    /** {@code key=value} or {@code key~=value} lines, or a bare word ({@code valid}). */
    private static Map<String, String> expectations(Path input) throws IOException {
        String name = input.getFileName().toString();
        Path file = input.resolveSibling(name.substring(0, name.lastIndexOf('.')) + ".expect");
        Map<String, String> out = new LinkedHashMap<>();
        if (!Files.exists(file)) {
            return out;
        }
        for (String line : Files.readAllLines(file)) {
            if (line.isBlank() || line.startsWith("#")) {
                continue;
            }
            int eq = line.indexOf('=');
            out.put(eq < 0 ? line.trim() : line.substring(0, eq), eq < 0 ? "" : line.substring(eq + 1));
        }
        return out;
    }

    private static Stream<Path> files(String dir) {
        try {
            Path root = Path.of(FuzzCorpusTest.class.getResource("/fuzz-corpus/" + dir).toURI());
            try (Stream<Path> all = Files.walk(root)) {
                List<Path> list = all.filter(Files::isRegularFile).sorted().toList();
                return list.stream();
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }
}
