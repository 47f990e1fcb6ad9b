package dev.tokenbudget.provider;

import dev.tokenbudget.provider.sse.SseParser;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Skipping streamed events by a byte search ({@link EventKeys}) reports what parsing every event
 * reports: the same usage, model, completeness, error and note, for the recorded streams and for
 * generated ones whose events spell the wanted names in ways a search could miss or mistake
 * (blanks around the colon, {@code null} values, names inside strings, escaped letters, names split
 * across data lines and chunks, malformed events, events over the held size).
 */
class EventSearchProperties {

    private static String read(Family f, Endpoint e, String contentType, byte[] bytes, int[] cuts, boolean search) {
        UsageReader r = new UsageReader(ProviderCodec.of(f).usageCollector(e), contentType,
                SseParser.DEFAULT_MAX_EVENT_BYTES, search);
        int at = 0;
        for (int cut : cuts) {
            r.feed(bytes, at, cut - at);
            at = cut;
        }
        r.feed(bytes, at, bytes.length - at);
        UsageReport u = r.finish();
        return Payloads.describe(u) + " note=" + u.note();
    }

    @Test
    void recordedStreamsReportTheSameWithAndWithoutTheSearch() {
        int streams = 0;
        for (Payloads.Payload p : Payloads.all()) {
            if (p.name().endsWith(".json")) {
                continue;
            }
            streams++;
            Random random = new Random(p.name().hashCode());
            for (int round = 0; round < 50; round++) {
                int[] cuts = random.ints(random.nextInt(12), 0, p.bytes().length + 1).sorted().toArray();
                assertThat(read(p.family(), p.endpoint(), p.contentType(), p.bytes(), cuts, true)).as(p.name())
                        .isEqualTo(read(p.family(), p.endpoint(), p.contentType(), p.bytes(), cuts, false))
                        .isEqualTo(Payloads.describe(Payloads.read(p)) + " note=" + Payloads.read(p).note());
            }
        }
        assertThat(streams).isGreaterThan(15);
    }

    @Property(tries = 2000)
    void generatedStreamsReportTheSameWithAndWithoutTheSearch(@ForAll("streams") Stream s) {
        byte[] bytes = s.text().getBytes(StandardCharsets.UTF_8);
        Random random = new Random(s.seed());
        int[] cuts = random.ints(random.nextInt(20), 0, bytes.length + 1).sorted().toArray();
        assertThat(read(s.family(), s.endpoint(), "text/event-stream", bytes, cuts, true))
                .isEqualTo(read(s.family(), s.endpoint(), "text/event-stream", bytes, cuts, false));
    }

    @Test
    void anEscapedLetterInAWantedNameIsStillRead() {
        String s = "data: {\"model\":\"m\",\"choices\":[]}\n\n"
                + "data: {\"model\":\"m\",\"\\u0075sage\":{\"prompt_tokens\":3,\"completion_tokens\":4}}\n\n";
        assertThat(readChat(s)).startsWith("model=m in=3 out=4 cached=null reasoning=null complete=true");
    }

    @Test
    void aNullUsageIsSkippedButAUsageAfterItInTheSameEventIsRead() {
        String s = "data: {\"model\":\"m\",\"usage\" :\n null}\n\n"
                + "data: {\"model\":\"m\",\"x\":{\"usage\":null},\"usage\" : {\"prompt_tokens\":3,\"completion_tokens\":4}}\n\n";
        assertThat(readChat(s)).startsWith("model=m in=3 out=4 cached=null reasoning=null complete=true");
    }

    private static String readChat(String stream) {
        byte[] b = stream.getBytes(StandardCharsets.UTF_8);
        return read(Family.OPENAI, Endpoint.CHAT_COMPLETIONS, "text/event-stream", b, new int[0], true);
    }

    @Test
    void theSearchRecognisesNamesOnlyInQuotesAndNotAsNullFields() {
        EventKeys k = EventKeys.of("usage", "message_stop");
        assertThat(holds(k, "{\"type\":\"message_stop\"}")).isTrue();
        assertThat(holds(k, "{\"usage\":{}}")).isTrue();
        assertThat(holds(k, "{\"usage\" :\t[1]}")).isTrue();
        assertThat(holds(k, "{\"usage\":nul")).isTrue(); // cut short: cannot rule it out
        assertThat(holds(k, "{\"usage\":null}")).isFalse();
        assertThat(holds(k, "{\"usages\":1,\"my_usage\":2,\"text\":\"usage\\\"\"}")).isFalse();
        assertThat(holds(k, "{\"text\":\"\\u00e9\"}")).isFalse();
        assertThat(holds(k, "{\"text\":\"\\u0041\"}")).isTrue();
    }

    private static boolean holds(EventKeys k, String s) {
        byte[] b = ("xx" + s).getBytes(StandardCharsets.UTF_8);
        return k.mayHold(b, 2, b.length - 2);
    }

    /** A generated stream of one format. */
    record Stream(Family family, Endpoint endpoint, String text, long seed) {
        @Override
        public String toString() {
            return family + " " + endpoint + " seed " + seed + ":\n" + text;
        }
    }

    @Provide
    Arbitrary<Stream> streams() {
        Arbitrary<Integer> format = Arbitraries.integers().between(0, 3);
        Arbitrary<List<Integer>> picks = Arbitraries.integers().between(0, 1000).list().ofMaxSize(12);
        return Combinators.combine(format, picks, Arbitraries.longs()).as((f, p, seed) -> {
            Random r = new Random(seed);
            StringBuilder sb = new StringBuilder();
            String[] pool = switch (f) {
                case 0 -> OPENAI_CHAT;
                case 1 -> OPENAI_RESPONSES;
                case 2 -> ANTHROPIC;
                default -> GEMINI;
            };
            for (int pick : p) {
                String data = pool[pick % pool.length]
                        .replace("N", Integer.toString(r.nextInt(2000)))
                        .replace(":", r.nextInt(4) == 0 ? " :\t " : ":");
                if (r.nextInt(20) == 0) {
                    data = data + "x".repeat(UsageReader.HELD_CAP); // parsed as it comes, not held
                }
                if (r.nextInt(10) == 0) {
                    data = data.substring(0, r.nextInt(data.length() + 1)); // malformed
                }
                if (f == 2 && r.nextBoolean()) {
                    sb.append("event: x\n");
                }
                // a second data line joins the first with '\n', which JSON reads as a blank
                int split = data.indexOf(' ');
                if (split > 0 && r.nextInt(5) == 0) {
                    sb.append("data: ").append(data, 0, split).append("\ndata:").append(data.substring(split));
                } else {
                    sb.append("data: ").append(data);
                }
                sb.append("\n\n");
            }
            Family family = f == 2 ? Family.ANTHROPIC : f == 3 ? Family.GEMINI : Family.OPENAI;
            Endpoint endpoint = switch (f) {
                case 0 -> Endpoint.CHAT_COMPLETIONS;
                case 1 -> Endpoint.RESPONSES;
                case 2 -> Endpoint.MESSAGES;
                default -> Endpoint.GENERATE_CONTENT;
            };
            return new Stream(family, endpoint, sb.toString(), seed);
        });
    }

    private static final String[] OPENAI_CHAT = {
        "{\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"model\":\"gpt\",\"choices\":[{\"index\":0,"
            + "\"delta\":{\"content\":\"hi usage\"},\"finish_reason\":null}],\"usage\":null}",
        "{\"id\":\"c\",\"model\":\"gpt\",\"choices\":[{\"delta\":{\"content\":\"\\\"usage\\\": {\\\"prompt_tokens\\\":9}\"}}]}",
        "{\"id\":\"c\",\"model\":\"gpt\",\"choices\":[],\"usage\":{\"prompt_tokens\":N,\"completion_tokens\":N,"
            + "\"total_tokens\":N,\"prompt_tokens_details\":{\"cached_tokens\":N}}}",
        "{\"model\":\"gpt\",\"choices\":[],\"usage\":{\"prompt_tokens\":N,\"total_tokens\":N}}",
        "{\"model\":\"gpt\",\"\\u0075sage\":{\"prompt_tokens\":N,\"completion_tokens\":N}}",
        "{\"model\":\"gpt\",\"usage\":{\"prompt_tokens\":-N,\"completion_tokens\":N}}",
        "{\"error\":{\"message\":\"boom N\",\"type\":\"server_error\"}}",
        "{\"model\":\"gpt\",\"error\":null,\"usage\":null}",
        "{\"choices\":[{\"delta\":{\"content\":\"no model here\"}}]}",
        "[DONE]",
    };

    private static final String[] OPENAI_RESPONSES = {
        "{\"type\":\"response.created\",\"response\":{\"id\":\"r\",\"model\":\"gpt-5\",\"usage\":null,\"error\":null}}",
        "{\"type\":\"response.output_text.delta\",\"delta\":\"usage error\"}",
        "{\"type\":\"response.completed\",\"response\":{\"model\":\"gpt-5\",\"usage\":{\"input_tokens\":N,"
            + "\"output_tokens\":N,\"output_tokens_details\":{\"reasoning_tokens\":N}}}}",
        "{\"type\":\"response.failed\",\"response\":{\"error\":{\"message\":\"failed N\"},\"usage\":null}}",
        "{\"type\":\"error\",\"code\":\"x\",\"message\":\"bad N\"}",
        "{\"usage\":{\"input_tokens\":N,\"output_tokens\":N}}",
    };

    private static final String[] ANTHROPIC = {
        "{\"type\":\"message_start\",\"message\":{\"model\":\"claude\",\"usage\":{\"input_tokens\":N,"
            + "\"cache_read_input_tokens\":N,\"output_tokens\":1}}}",
        "{\"type\":\"message_start\",\"message\":{\"model\":\"claude\"}}",
        "{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"message_stop\"}}",
        "{\"type\":\"ping\"}",
        "{\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},\"usage\":{\"output_tokens\":N}}",
        "{\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"}}",
        "{\"type\":\"message_delta\",\"delta\":{},\"usage\":{\"output_tokens\":N}}",
        "{\"type\":\"message_stop\"}",
        "{\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded N\"}}",
        "{\"usage\":{\"output_tokens\":N}}",
    };

    private static final String[] GEMINI = {
        "{\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"usageMetadata\"}]}}],\"modelVersion\":\"gemini\"}",
        "{\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"x\"}]}}],\"usageMetadata\":{\"promptTokenCount\":N,"
            + "\"candidatesTokenCount\":N},\"modelVersion\":\"gemini\"}",
        "{\"candidates\":[{\"finishReason\":\"STOP\"}],\"usageMetadata\":{\"promptTokenCount\":N,"
            + "\"candidatesTokenCount\":N,\"thoughtsTokenCount\":N},\"modelVersion\":\"gemini\"}",
        "{\"candidates\":[{\"finishReason\":\"STOP\"}],\"modelVersion\":\"gemini\"}",
        "{\"error\":{\"code\":500,\"message\":\"internal N\",\"status\":\"INTERNAL\"}}",
        "{\"usageMetadata\":null,\"modelVersion\":\"gemini\"}",
    };
}
