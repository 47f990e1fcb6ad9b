package dev.tokenbudget.provider;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;

/**
 * The recorded-payload fixtures under {@code src/test/resources/payloads}: each body or stream
 * {@code name.json} / {@code name.sse} / {@code name.frames} has {@code name.expected.json} next to
 * it with the family, endpoint and the usage it must yield. A {@code .frames} file is an AWS event
 * stream written readably ({@link EventStreamFrames}) and encoded, real checksums included, by the
 * AWS SDK's own encoder when loaded.
 */
public final class Payloads {

    private static final ObjectMapper JSON = new ObjectMapper();

    private Payloads() {
    }

    /** A fixture and what it must yield. */
    public record Payload(String name, byte[] bytes, JsonNode expected) {

        public Family family() {
            return Family.valueOf(expected.get("family").asText().toUpperCase(Locale.ROOT));
        }

        public Endpoint endpoint() {
            return Endpoint.valueOf(expected.get("endpoint").asText());
        }

        public String contentType() {
            return name.endsWith(".sse") ? "text/event-stream" : name.endsWith(".frames")
                    ? "application/vnd.amazon.eventstream" : "application/json";
        }

        @Override
        public String toString() {
            return name;
        }
    }

    public static List<Payload> all() {
        try {
            Path root = Path.of(Payloads.class.getResource("/payloads").toURI());
            try (Stream<Path> files = Files.walk(root)) {
                return files.filter(Files::isRegularFile)
                        .filter(p -> !p.getFileName().toString().endsWith(".expected.json"))
                        .sorted()
                        .map(p -> load(root, p))
                        .toList();
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    public static Payload get(String name) {
        return all().stream().filter(p -> p.name().equals(name)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no payload " + name));
    }

    /** A fixture's bytes, read as a resource (so also from the test-jar); a {@code .frames} file encoded. */
    public static byte[] bytes(String name) {
        try (InputStream in = Payloads.class.getResourceAsStream("/payloads/" + name)) {
            if (in == null) {
                throw new IllegalArgumentException("no payload " + name);
            }
            byte[] b = in.readAllBytes();
            return name.endsWith(".frames") ? EventStreamFrames.encode(JSON.readTree(b)) : b;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Payload load(Path root, Path p) {
        try {
            String name = root.relativize(p).toString().replace('\\', '/');
            String base = name.substring(0, name.lastIndexOf('.'));
            Path exp = root.resolve(base + ".expected.json");
            if (!Files.exists(exp)) {
                throw new IllegalStateException("fixture " + name + " has no " + base + ".expected.json");
            }
            byte[] bytes = Files.readAllBytes(p);
            if (name.endsWith(".frames")) {
                bytes = EventStreamFrames.encode(JSON.readTree(bytes));
            }
            return new Payload(name, bytes, JSON.readTree(exp.toFile()));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Runs a reader over {@code bytes} cut at the given offsets (ascending). */
    public static UsageReport read(Payload p, int... cuts) {
        UsageReader r = UsageReader.of(p.family(), p.endpoint(), p.contentType());
        int from = 0;
        for (int c : cuts) {
            r.feed(p.bytes(), from, c - from);
            from = c;
        }
        r.feed(p.bytes(), from, p.bytes().length - from);
        return r.finish();
    }

    /** The report as the expected-file object, for comparison. */
    public static String describe(UsageReport r) {
        return "model=" + r.model() + " in=" + r.inputTokens() + " out=" + r.outputTokens() + " cached="
                + r.cachedInputTokens() + " reasoning=" + r.reasoningTokens() + " complete=" + r.complete()
                + " error=" + r.error();
    }

    public static String describe(JsonNode e) {
        return "model=" + text(e, "model") + " in=" + text(e, "input_tokens") + " out=" + text(e, "output_tokens")
                + " cached=" + text(e, "cached_input_tokens") + " reasoning=" + text(e, "reasoning_tokens")
                + " complete=" + e.get("complete").asBoolean() + " error=" + text(e, "error");
    }

    private static String text(JsonNode e, String f) {
        JsonNode n = e.get(f);
        return n == null || n.isNull() ? "null" : n.asText();
    }
}
