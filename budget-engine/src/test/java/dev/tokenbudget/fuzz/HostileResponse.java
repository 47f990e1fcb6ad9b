package dev.tokenbudget.fuzz;

import dev.tokenbudget.provider.Endpoint;
import dev.tokenbudget.provider.Family;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Random;

/**
 * A response body as an upstream might send it to the gateway: a JSON body, a JSON array (Gemini's
 * non-SSE stream) or an SSE stream of JSON events, built from {@link HostileJson} documents, then
 * maybe broken (cut short, bytes flipped or inserted, a piece repeated).
 */
record HostileResponse(Endpoint endpoint, String contentType, byte[] bytes) {

    static final List<Endpoint> METERED = List.of(Endpoint.CHAT_COMPLETIONS, Endpoint.COMPLETIONS, Endpoint.RESPONSES,
            Endpoint.EMBEDDINGS, Endpoint.MESSAGES, Endpoint.GENERATE_CONTENT, Endpoint.STREAM_GENERATE_CONTENT);

    Family family() {
        return endpoint.family();
    }

    @Override
    public String toString() {
        return endpoint + " " + contentType + " " + Chunks.show(bytes);
    }

    static Arbitrary<HostileResponse> any() {
        Arbitrary<String> doc = HostileJson.object(3);
        Arbitrary<String> json = doc;
        Arbitrary<String> array = doc.list().ofMaxSize(5).map(ds -> "[" + String.join(",", ds) + "]");
        Arbitrary<String> sse = Combinators.combine(doc.list().ofMaxSize(6), Arbitraries.longs())
                .as(HostileResponse::sse);
        Arbitrary<String> body = Arbitraries.frequency(
                net.jqwik.api.Tuple.of(3, "json"), net.jqwik.api.Tuple.of(1, "array"), net.jqwik.api.Tuple.of(4, "sse"))
                .flatMap(kind -> switch (kind) {
                    case "json" -> json;
                    case "array" -> array;
                    default -> sse;
                });
        Arbitrary<String> contentType = Arbitraries.of("application/json", "text/event-stream",
                "application/json; charset=utf-8", "application/octet-stream").injectNull(0.2);
        return Combinators.combine(Arbitraries.of(METERED), contentType, body, Arbitraries.longs())
                .as((e, ct, b, seed) -> new HostileResponse(e, ct, mutate(b.getBytes(StandardCharsets.UTF_8), seed)));
    }

    /** An event stream of the documents: event types, comments, [DONE], any line ending, maybe a BOM. */
    static String sse(List<String> docs, long seed) {
        Random r = new Random(seed);
        String eol = List.of("\n", "\r\n", "\r").get(r.nextInt(3));
        StringBuilder sb = new StringBuilder(r.nextInt(8) == 0 ? "\uFEFF" : "");
        for (String d : docs) {
            if (r.nextInt(5) == 0) {
                sb.append(": keep-alive").append(eol);
            }
            if (r.nextBoolean()) {
                sb.append("event: ").append(HostileJson.WORDS.get(r.nextInt(HostileJson.WORDS.size()))).append(eol);
            }
            sb.append(r.nextBoolean() ? "data: " : "data:").append(d).append(eol).append(eol);
        }
        if (r.nextBoolean()) {
            sb.append("data: [DONE]").append(eol).append(eol);
        }
        return sb.toString();
    }

    /** Leaves the bytes alone half of the time; otherwise cuts, flips, inserts or repeats some. */
    static byte[] mutate(byte[] b, long seed) {
        Random r = new Random(seed);
        int kind = r.nextInt(8);
        if (kind < 4 || b.length == 0) {
            return b;
        }
        int at = r.nextInt(b.length);
        return switch (kind) {
            case 4 -> java.util.Arrays.copyOf(b, at);
            case 5 -> {
                byte[] c = b.clone();
                for (int k = 0; k < 1 + r.nextInt(4); k++) {
                    c[r.nextInt(c.length)] = (byte) r.nextInt(256);
                }
                yield c;
            }
            case 6 -> {
                byte[] c = new byte[b.length + 1];
                System.arraycopy(b, 0, c, 0, at);
                String junk = "\n\r:{}[]\",\\0e-";
                c[at] = (byte) junk.charAt(r.nextInt(junk.length()));
                System.arraycopy(b, at, c, at + 1, b.length - at);
                yield c;
            }
            default -> {
                int len = Math.min(b.length - at, 1 + r.nextInt(64));
                byte[] c = new byte[b.length + len];
                System.arraycopy(b, 0, c, 0, at + len);
                System.arraycopy(b, at, c, at + len, b.length - at);
                yield c;
            }
        };
    }
}
