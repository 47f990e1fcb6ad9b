package dev.tokenbudget.provider;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.statistics.Statistics;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The scan ({@link RequestScan#read}) against the tree ({@link RequestScan#parsed}: RequestJson's
 * parse and the codec on the whole tree, which is what admission ran before the scan): the same
 * facts, prompt and problem on generated bodies, cut into heap and off-heap pieces anywhere; and
 * well-formed bodies read by the scan alone, without the tree.
 */
class RequestScanProperties {

    private static final Endpoint[] ENDPOINTS = {Endpoint.CHAT_COMPLETIONS, Endpoint.COMPLETIONS,
        Endpoint.RESPONSES, Endpoint.EMBEDDINGS, Endpoint.MESSAGES, Endpoint.GENERATE_CONTENT,
        Endpoint.STREAM_GENERATE_CONTENT, Endpoint.CONVERSE, Endpoint.CONVERSE_STREAM, Endpoint.INVOKE_MODEL,
        Endpoint.INVOKE_MODEL_STREAM, Endpoint.RAW_PREDICT};

    /** Field names: those the codecs and the prompt walk treat specially, and ordinary ones. */
    private static final String[] KEYS = {"model", "stream", "max_tokens", "max_completion_tokens",
        "max_output_tokens", "n", "best_of", "max_gen_len", "stream_options", "include_usage", "generationConfig",
        "generation_config", "maxOutputTokens", "candidateCount", "thinkingConfig", "thinkingBudget",
        "inferenceConfig", "maxTokens", "max_new_tokens", "textGenerationConfig", "maxTokenCount", "messages",
        "role", "content", "text", "data", "system", "instructions", "input", "prompt", "image_url", "source",
        "inlineData", "image", "type", "id", "metadata", "tools", "contents", "parts", "a", "b", "x.y", ""};
    private static final String[] STRINGS = {"", "hi", "gpt-4o", "user", "system", "Say hello to the benchmark.",
        "é ü 中文 😀", "line\nbreak \"quoted\" \\\\ back", "\\u00e9 escaped", "data:image/png;base64," + "A".repeat(80),
        "data:x", "true", "12", "text"};
    private static final String[] NUMBERS = {"0", "1", "2", "32", "-1", "-5", "4096", "1.0", "12.50", "1.5", "1e3",
        "1E2", "2147483648", "9223372036854775807", "9223372036854775808", "18446744073709551616", "-0", "0.0",
        "9007199254740991", "9007199254740992", "1e400", "3.0e0"};

    @Provide
    Arbitrary<Long> seeds() {
        return Arbitraries.longs();
    }

    @Property(tries = 3000)
    void theScanReadsWhatTheTreeReadsOnAnyBody(@ForAll("seeds") long seed) {
        Random r = new Random(seed);
        byte[] body = mutate(r, generate(r, false).getBytes(StandardCharsets.UTF_8));
        Endpoint e = ENDPOINTS[r.nextInt(ENDPOINTS.length)];
        ProviderCodec codec = ProviderCodec.of(e.family());
        RequestScan.Result tree = RequestScan.parsed(codec, e, body);
        RequestScan.Result scan = RequestScan.read(codec, e, pieces(r, body));
        Statistics.label("read").collect(scan.scanned() ? "by the scan" : "by the tree",
                tree.jsonProblem() != null ? "bad JSON" : tree.facts().valid() ? "valid" : "bad field");
        assertThat(scan.jsonProblem()).as("problem of %s", new String(body, StandardCharsets.UTF_8))
                .isEqualTo(tree.jsonProblem());
        assertThat(scan.facts()).as("facts of %s", new String(body, StandardCharsets.UTF_8)).isEqualTo(tree.facts());
    }

    @Property(tries = 1500)
    void wellFormedBodiesAreReadByTheScanAlone(@ForAll("seeds") long seed) {
        Random r = new Random(seed);
        byte[] body = generate(r, true).getBytes(StandardCharsets.UTF_8);
        Endpoint e = ENDPOINTS[r.nextInt(ENDPOINTS.length)];
        ProviderCodec codec = ProviderCodec.of(e.family());
        RequestScan.Result tree = RequestScan.parsed(codec, e, body);
        RequestScan.Result scan = RequestScan.read(codec, e, pieces(r, body));
        assertThat(tree.jsonProblem()).isNull();
        assertThat(scan.scanned()).as("scanned %s", new String(body, StandardCharsets.UTF_8)).isTrue();
        assertThat(scan.tree()).isNull();
        assertThat(scan.facts()).isEqualTo(tree.facts());
    }

    @Property(tries = 1000)
    void askingAStreamForUsageSplicedIntoTheBytesGivesWhatTheTreeRewriteGives(@ForAll("seeds") long seed) {
        Random r = new Random(seed);
        com.fasterxml.jackson.databind.node.ObjectNode generated = RequestJson.parse(
                generate(r, true).getBytes(StandardCharsets.UTF_8)).body();
        generated.put("stream", true);
        boolean hasOptions = r.nextInt(4) == 0;
        if (hasOptions) {
            generated.set("stream_options", RequestJson.object().put("include_obfuscation", false));
        } else {
            generated.remove("stream_options");
        }
        String trailing = r.nextBoolean() ? "" : " \n\t";
        byte[] body = (new String(RequestJson.write(generated), StandardCharsets.UTF_8) + trailing)
                .getBytes(StandardCharsets.UTF_8);
        Endpoint e = r.nextBoolean() ? Endpoint.CHAT_COMPLETIONS : Endpoint.COMPLETIONS;
        ProviderCodec codec = ProviderCodec.of(Family.OPENAI);
        BodyChange usage = new BodyChange(null, -1, java.util.Map.of(), true);
        RequestScan.Result read = RequestScan.read(codec, e, pieces(r, body));
        if (!read.facts().valid()) {
            return; // a generated field the codec refuses (a negative max_tokens): no admission, no rewrite
        }
        byte[] spliced = codec.splice(e, read.fields(), BodyBytes.of(body), usage);

        com.fasterxml.jackson.databind.node.ObjectNode tree = RequestJson.parse(body).body();
        assertThat(codec.rewrite(e, Provider.OPENAI, tree, usage)).isTrue();
        if (hasOptions) {
            assertThat(spliced).as("an existing stream_options object is changed on the tree").isNull();
            return;
        }
        assertThat(spliced).isNotNull();
        assertThat(RequestJson.parse(spliced).body()).isEqualTo(tree);
        if (trailing.isEmpty()) {
            assertThat(new String(spliced, StandardCharsets.UTF_8))
                    .isEqualTo(new String(RequestJson.write(tree), StandardCharsets.UTF_8));
        }
    }

    /** A root object; {@code tidy}: the codecs' value fields hold values and their object fields objects. */
    private static String generate(Random r, boolean tidy) {
        StringBuilder b = new StringBuilder();
        object(r, b, 0, r.nextInt(10) == 0 ? 70 : 5, tidy);
        return b.toString();
    }

    private static void value(Random r, StringBuilder b, String key, int depth, int maxDepth, boolean tidy) {
        boolean valueField = key != null && (key.startsWith("max") || key.equals("n") || key.equals("best_of")
                || key.equals("model") || key.equals("stream") || key.equals("include_usage")
                || key.equals("candidateCount") || key.equals("thinkingBudget"));
        boolean objectField = key != null && (key.equals("stream_options") || key.endsWith("Config")
                || key.equals("generation_config"));
        int kind = r.nextInt(depth >= maxDepth ? 5 : 8);
        if (tidy && valueField) {
            kind = r.nextInt(5);
        } else if (tidy && objectField) {
            kind = r.nextInt(3) == 0 ? r.nextInt(5) : 6;
        }
        if (!tidy && objectField && r.nextBoolean()) {
            kind = 6;
        }
        switch (kind) {
            case 0 -> b.append(NUMBERS[r.nextInt(NUMBERS.length)]);
            case 1 -> string(r, b);
            case 2 -> b.append(r.nextBoolean());
            case 3 -> b.append("null");
            case 4 -> b.append(r.nextInt(3) == 0 ? NUMBERS[r.nextInt(NUMBERS.length)] : Integer.toString(r.nextInt(300)));
            case 5 -> {
                b.append('[');
                int n = r.nextInt(4);
                for (int i = 0; i < n; i++) {
                    if (i > 0) {
                        b.append(r.nextBoolean() ? "," : " ,\n ");
                    }
                    value(r, b, null, depth + 1, maxDepth, tidy);
                }
                b.append(']');
            }
            default -> object(r, b, depth + 1, maxDepth, tidy);
        }
    }

    private static void object(Random r, StringBuilder b, int depth, int maxDepth, boolean tidy) {
        b.append('{');
        int n = depth >= maxDepth ? 0 : depth > 6 ? 1 : r.nextInt(6);
        List<String> used = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            String k = KEYS[r.nextInt(KEYS.length)];
            if (used.contains(k)) {
                continue;
            }
            used.add(k);
            if (!used.isEmpty() && used.size() > 1) {
                b.append(r.nextInt(4) == 0 ? " , " : ",");
            }
            b.append('"').append(k).append('"').append(r.nextInt(4) == 0 ? " : " : ":");
            value(r, b, k, depth, maxDepth, tidy);
        }
        b.append('}');
    }

    private static void string(Random r, StringBuilder b) {
        String s = STRINGS[r.nextInt(STRINGS.length)];
        b.append('"');
        for (char c : s.toCharArray()) {
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\n' -> b.append("\\n");
                default -> b.append(c);
            }
        }
        b.append('"');
    }

    /** Sometimes breaks a body: a duplicated field, trailing content, a cut, a bad byte, a NaN, another root. */
    private static byte[] mutate(Random r, byte[] body) {
        String s = new String(body, StandardCharsets.UTF_8);
        switch (r.nextInt(14)) {
            case 0 -> s = s.length() > 2 ? "{\"max_tokens\":1,\"max_tokens\":2," + s.substring(1) : s;
            case 1 -> s = s + (r.nextBoolean() ? " {}" : "x");
            case 2 -> s = s.substring(0, r.nextInt(s.length() + 1));
            case 3 -> {
                byte[] bad = body.clone();
                bad[r.nextInt(bad.length)] = (byte) (0x80 + r.nextInt(0x80));
                return bad;
            }
            case 4 -> s = s.replaceFirst("1", "NaN");
            case 5 -> s = r.nextBoolean() ? "[" + s + "]" : "\"" + s.length() + "\"";
            case 6 -> s = s.replaceFirst("}$", ",}");
            case 7 -> s = "\uFEFF" + s;
            case 8 -> s = " \n" + s + "\n ";
            case 9 -> s = "";
            default -> {
            }
        }
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /** The body cut at random places into heap and off-heap buffers. */
    private static BodyBytes pieces(Random r, byte[] body) {
        List<ByteBuffer> out = new ArrayList<>();
        int at = 0;
        while (at < body.length) {
            int n = 1 + r.nextInt(r.nextBoolean() ? 4 : Math.max(1, body.length));
            n = Math.min(n, body.length - at);
            ByteBuffer bb = r.nextBoolean() ? ByteBuffer.allocateDirect(n) : ByteBuffer.allocate(n + 3).position(2);
            bb.put(body, at, n).flip();
            if (bb.capacity() == n + 3) {
                bb.position(2);
            }
            out.add(bb);
            at += n;
        }
        return r.nextInt(5) == 0 ? BodyBytes.of(body) : BodyBytes.of(out);
    }
}
