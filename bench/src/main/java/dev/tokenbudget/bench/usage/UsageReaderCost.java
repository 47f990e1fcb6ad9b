package dev.tokenbudget.bench.usage;

import dev.tokenbudget.provider.Endpoint;
import dev.tokenbudget.provider.Family;
import dev.tokenbudget.provider.UsageReader;
import dev.tokenbudget.provider.UsageReport;

import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Benchmark (not a test): the usage readers alone ({@link UsageReader} with its SSE parser and JSON
 * scanners), one thread, no gateway. Each kind of response is fed event by event, as a streamed
 * body arrives, and finished; per response it prints the bytes this thread allocated (exact,
 * whatever the machine's load) and the thread's CPU time (indicative on a loaded machine).
 * Usage: UsageReaderCost [responses [rounds]] (defaults 20000, 5).
 */
public final class UsageReaderCost {

    /** One kind of response: who answered, the content type and the body in the pieces it comes in. */
    record Shape(String name, Family family, Endpoint endpoint, String contentType, List<byte[]> chunks,
                 long input, long output) {
    }

    private UsageReaderCost() {
    }

    public static void main(String[] args) {
        int responses = args.length > 0 ? Integer.parseInt(args[0]) : 20_000;
        int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 5;
        List<Shape> shapes = shapes();
        for (Shape s : shapes) {
            UsageReport r = read(s);
            if (r.inputTokens() == null || r.inputTokens() != s.input || r.outputTokens() == null
                    || r.outputTokens() != s.output || !r.complete()) {
                throw new IllegalStateException(s.name + " read as " + r);
            }
        }
        for (int w = 0; w < 5; w++) {
            for (Shape s : shapes) {
                run(s, 20_000); // warm-up: the JIT, whose escape analysis settles only after a few rounds
            }
        }
        for (int r = 0; r < rounds; r++) {
            StringBuilder line = new StringBuilder("usage-readers");
            for (Shape s : shapes) {
                double[] f = run(s, responses);
                line.append(String.format(Locale.ROOT, " %s bytes=%.0f cpu-us=%.2f", s.name, f[0], f[1]));
            }
            System.out.println(line);
        }
    }

    /** Bytes allocated and thread CPU µs per response, over {@code n} responses of {@code s}. */
    static double[] run(Shape s, int n) {
        com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long tid = Thread.currentThread().getId();
        long sink = 0;
        long bytes0 = mx.getThreadAllocatedBytes(tid);
        long cpu0 = mx.getCurrentThreadCpuTime();
        for (int i = 0; i < n; i++) {
            sink += read(s).outputTokens();
        }
        long cpu = mx.getCurrentThreadCpuTime() - cpu0;
        long bytes = mx.getThreadAllocatedBytes(tid) - bytes0;
        if (sink != s.output * n) {
            throw new IllegalStateException(s.name + " counted " + sink);
        }
        return new double[] {(double) bytes / n, cpu / 1e3 / n};
    }

    static UsageReport read(Shape s) {
        UsageReader reader = UsageReader.of(s.family, s.endpoint, s.contentType);
        for (byte[] c : s.chunks) {
            reader.feed(c, 0, c.length);
        }
        return reader.finish();
    }

    private static final String[] WORDS = {" the", " invoice", " refund", " is", " sent", " within", " three",
        " days;", " ask", " for", " order", " number", " when", " needed."};

    static List<Shape> shapes() {
        return List.of(openAiStream(), anthropicStream(), geminiStream(), openAiJson());
    }

    /** Chat Completions streamed with {@code include_usage}: {@code "usage":null} on every chunk, usage on the last. */
    static Shape openAiStream() {
        List<byte[]> chunks = new ArrayList<>();
        String head = "{\"id\":\"chatcmpl-BVq7tFj1s0yI3QWmF8nP2cLx9aRkE\",\"object\":\"chat.completion.chunk\","
                + "\"created\":1746954457,\"model\":\"gpt-4.1-2025-04-14\",\"service_tier\":\"default\","
                + "\"system_fingerprint\":\"fp_b38e740b47\",\"choices\":[";
        chunks.add(sse(null, head + "{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\",\"refusal\":null},"
                + "\"logprobs\":null,\"finish_reason\":null}],\"usage\":null}"));
        for (int i = 0; i < 40; i++) {
            chunks.add(sse(null, head + "{\"index\":0,\"delta\":{\"content\":\"" + WORDS[i % WORDS.length]
                    + "\"},\"logprobs\":null,\"finish_reason\":null}],\"usage\":null}"));
        }
        chunks.add(sse(null, head + "{\"index\":0,\"delta\":{},\"logprobs\":null,\"finish_reason\":\"stop\"}],"
                + "\"usage\":null}"));
        chunks.add(sse(null, head + "],\"usage\":{\"prompt_tokens\":412,\"completion_tokens\":41,\"total_tokens\":453,"
                + "\"prompt_tokens_details\":{\"cached_tokens\":0,\"audio_tokens\":0},\"completion_tokens_details\":"
                + "{\"reasoning_tokens\":0,\"audio_tokens\":0,\"accepted_prediction_tokens\":0,"
                + "\"rejected_prediction_tokens\":0}}}"));
        chunks.add(sse(null, "[DONE]"));
        return new Shape("openai-stream", Family.OPENAI, Endpoint.CHAT_COMPLETIONS, "text/event-stream", chunks,
                412, 41);
    }

    /** Messages streamed: usage in {@code message_start} and {@code message_delta}, 40 text deltas between. */
    static Shape anthropicStream() {
        List<byte[]> chunks = new ArrayList<>();
        chunks.add(sse("message_start", "{\"type\":\"message_start\",\"message\":{\"id\":\"msg_01QwD4b7Nxe2oUNpVfK1fQ2s\","
                + "\"type\":\"message\",\"role\":\"assistant\",\"model\":\"claude-opus-4-7\",\"content\":[],"
                + "\"stop_reason\":null,\"stop_sequence\":null,\"usage\":{\"input_tokens\":425,"
                + "\"cache_creation_input_tokens\":0,\"cache_read_input_tokens\":0,\"output_tokens\":1,"
                + "\"service_tier\":\"standard\"}}}"));
        chunks.add(sse("content_block_start", "{\"type\":\"content_block_start\",\"index\":0,"
                + "\"content_block\":{\"type\":\"text\",\"text\":\"\"}}"));
        chunks.add(sse("ping", "{\"type\": \"ping\"}"));
        for (int i = 0; i < 40; i++) {
            chunks.add(sse("content_block_delta", "{\"type\":\"content_block_delta\",\"index\":0,\"delta\":"
                    + "{\"type\":\"text_delta\",\"text\":\"" + WORDS[i % WORDS.length] + "\"}}"));
        }
        chunks.add(sse("content_block_stop", "{\"type\":\"content_block_stop\",\"index\":0}"));
        chunks.add(sse("message_delta", "{\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\","
                + "\"stop_sequence\":null},\"usage\":{\"output_tokens\":41}}"));
        chunks.add(sse("message_stop", "{\"type\":\"message_stop\"}"));
        return new Shape("anthropic-stream", Family.ANTHROPIC, Endpoint.MESSAGES, "text/event-stream", chunks,
                425, 41);
    }

    /** streamGenerateContent with {@code alt=sse}: {@code usageMetadata} on every chunk, so each is parsed. */
    static Shape geminiStream() {
        List<byte[]> chunks = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            boolean last = i == 19;
            chunks.add(sse(null, "{\"candidates\":[{\"content\":{\"parts\":[{\"text\":\""
                    + WORDS[i % WORDS.length] + WORDS[(i + 1) % WORDS.length] + "\"}],\"role\":\"model\"},"
                    + (last ? "\"finishReason\":\"STOP\"," : "") + "\"index\":0}],\"usageMetadata\":"
                    + "{\"promptTokenCount\":398,\"candidatesTokenCount\":" + (2 * i + 2) + ",\"totalTokenCount\":"
                    + (400 + 2 * i) + "},\"modelVersion\":\"gemini-2.5-flash\",\"responseId\":\"aBcDeFgHiJkLmN\"}"));
        }
        return new Shape("gemini-stream", Family.GEMINI, Endpoint.STREAM_GENERATE_CONTENT, "text/event-stream",
                chunks, 398, 40);
    }

    /** A Chat Completions JSON answer in one piece. */
    static Shape openAiJson() {
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < 40; i++) {
            text.append(WORDS[i % WORDS.length]);
        }
        String body = "{\"id\":\"chatcmpl-BVq8aKx2\",\"object\":\"chat.completion\",\"created\":1746954460,"
                + "\"model\":\"gpt-4.1-2025-04-14\",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\","
                + "\"content\":\"" + text + "\",\"refusal\":null,\"annotations\":[]},\"logprobs\":null,"
                + "\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":412,\"completion_tokens\":41,"
                + "\"total_tokens\":453,\"prompt_tokens_details\":{\"cached_tokens\":0,\"audio_tokens\":0},"
                + "\"completion_tokens_details\":{\"reasoning_tokens\":0,\"audio_tokens\":0,"
                + "\"accepted_prediction_tokens\":0,\"rejected_prediction_tokens\":0}},\"service_tier\":\"default\","
                + "\"system_fingerprint\":\"fp_b38e740b47\"}";
        return new Shape("openai-json", Family.OPENAI, Endpoint.CHAT_COMPLETIONS, "application/json",
                List.of(body.getBytes(StandardCharsets.UTF_8)), 412, 41);
    }

    private static byte[] sse(String type, String data) {
        return ((type == null ? "" : "event: " + type + "\n") + "data: " + data + "\n\n").getBytes(StandardCharsets.UTF_8);
    }
}
