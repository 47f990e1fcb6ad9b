package dev.tokenbudget.fuzz;

import dev.tokenbudget.provider.Endpoint;
import dev.tokenbudget.provider.Family;
import dev.tokenbudget.provider.UsageReader;

import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.IntFunction;

/**
 * Feeds never-ending responses (as a broken or hostile upstream might send them) through a usage
 * reader, in a JVM whose heap is smaller than what is fed, and prints the heap retained after
 * each half: {@code scenario fedBytes retainedAfterHalf retainedAfterAll}. Run by
 * {@link EndlessInputMemoryTest} as {@code java -Xmx64m ... EndlessInput MEGABYTES}; an
 * out-of-memory error (a reader holding what it read) ends it with a non-zero status.
 */
public final class EndlessInput {

    private static final int CHUNK = 64 * 1024;

    /** A scenario: its start, then an endless repetition of a chunk. */
    private record Scenario(Endpoint endpoint, String contentType, String head, IntFunction<String> unit) {
    }

    private EndlessInput() {
    }

    static Map<String, Scenario> scenarios() {
        Map<String, Scenario> s = new LinkedHashMap<>();
        s.put("sse-endless-usage-events", new Scenario(Endpoint.CHAT_COMPLETIONS, "text/event-stream", "",
                i -> "data: {\"model\":\"m\",\"choices\":[{\"delta\":{\"content\":\"tok\"}}],\"usage\":{\"prompt_tokens\":"
                        + i + ",\"completion_tokens\":" + i + "}}\n\n"));
        s.put("sse-data-line-without-end", new Scenario(Endpoint.CHAT_COMPLETIONS, "text/event-stream",
                "data: {\"choices\":[{\"delta\":{\"content\":\"", i -> "x".repeat(64)));
        s.put("sse-comment-without-end", new Scenario(Endpoint.CHAT_COMPLETIONS, "text/event-stream", ": ",
                i -> "x".repeat(64)));
        s.put("sse-event-type-without-end", new Scenario(Endpoint.MESSAGES, "text/event-stream", "event: ",
                i -> "y".repeat(64)));
        s.put("anthropic-endless-deltas", new Scenario(Endpoint.MESSAGES, "text/event-stream",
                "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"model\":\"c\",\"usage\":"
                        + "{\"input_tokens\":5,\"output_tokens\":1}}}\n\n",
                i -> "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":"
                        + "{\"type\":\"text_delta\",\"text\":\"tok\"}}\n\n"));
        s.put("json-array-without-end", new Scenario(Endpoint.STREAM_GENERATE_CONTENT, "application/json", "[",
                i -> "{\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"x\"}]}}],\"usageMetadata\":"
                        + "{\"promptTokenCount\":8,\"candidatesTokenCount\":" + i + "}},"));
        s.put("json-string-without-end", new Scenario(Endpoint.CHAT_COMPLETIONS, "application/json",
                "{\"choices\":[{\"message\":{\"content\":\"", i -> "lorem ipsum ".repeat(8)));
        s.put("json-whitespace-without-end", new Scenario(Endpoint.CHAT_COMPLETIONS, "application/json", "{",
                i -> " ".repeat(64)));
        s.put("json-nesting-without-end", new Scenario(Endpoint.CHAT_COMPLETIONS, "application/json", "",
                i -> "{\"a\":[".repeat(8)));
        return s;
    }

    public static void main(String[] args) {
        long bytes = Long.parseLong(args[0]) << 20;
        MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
        for (Map.Entry<String, Scenario> e : scenarios().entrySet()) {
            Scenario sc = e.getValue();
            long base = retained(memory);
            UsageReader reader = UsageReader.of(sc.endpoint().family() == null ? Family.OPENAI
                    : sc.endpoint().family(), sc.endpoint(), sc.contentType());
            byte[] head = sc.head().getBytes(StandardCharsets.UTF_8);
            reader.feed(head, 0, head.length);
            long fed = head.length;
            long half = 0;
            int unit = 0;
            byte[] chunk = new byte[CHUNK];
            while (fed < bytes) {
                int filled = 0;
                while (filled < CHUNK) {
                    byte[] u = sc.unit().apply(unit++).getBytes(StandardCharsets.UTF_8);
                    int n = Math.min(u.length, CHUNK - filled);
                    System.arraycopy(u, 0, chunk, filled, n);
                    filled += n;
                }
                reader.feed(chunk, 0, CHUNK);
                fed += CHUNK;
                if (half == 0 && fed >= bytes / 2) {
                    half = retained(memory) - base;
                }
            }
            long all = retained(memory) - base;
            // keep the reader reachable until measured: what it holds is what is counted
            System.out.println(e.getKey() + " " + fed + " " + half + " " + all + " " + reader.bytes());
        }
    }

    private static long retained(MemoryMXBean memory) {
        for (int i = 0; i < 3; i++) {
            System.gc();
        }
        return memory.getHeapMemoryUsage().getUsed();
    }
}
