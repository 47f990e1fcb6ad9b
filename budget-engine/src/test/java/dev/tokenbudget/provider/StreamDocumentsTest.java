package dev.tokenbudget.provider;

import dev.tokenbudget.provider.sse.SseParser;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A stream's events are read by one JSON scanner, whose parser goes on from one event to the next
 * ({@code JsonScanner.endDocument()}): what an event reports does not depend on the events before
 * it (a malformed one, one that is not an object, one cut short) nor on where the chunks are cut.
 */
class StreamDocumentsTest {

    private static final String OPENAI = "data: {\"model\":\"gpt-4.1\",\"choices\":[{\"delta\":{\"content\":\"Hi\"}}],"
            + "\"usage\":null}\n\n"
            + "data: {\"model\":\"gpt-4.1\",\"choices\":[{\"delta\":{},\"finish_reason\":\"stop\"}],\"usage\":null}\n\n"
            + "data: {\"model\":\"gpt-4.1\",\"choices\":[],\"usage\":{\"prompt_tokens\":412,\"completion_tokens\":41,"
            + "\"total_tokens\":453,\"prompt_tokens_details\":{\"cached_tokens\":128}}}\n\n"
            + "data: [DONE]\n\n";

    private static UsageReport read(Family f, Endpoint e, String stream, int... cuts) {
        byte[] b = stream.getBytes(StandardCharsets.UTF_8);
        UsageReader r = new UsageReader(ProviderCodec.of(f).usageCollector(e), "text/event-stream",
                SseParser.DEFAULT_MAX_EVENT_BYTES);
        int at = 0;
        for (int cut : cuts) {
            r.feed(b, at, cut - at);
            at = cut;
        }
        r.feed(b, at, b.length - at);
        return r.finish();
    }

    @Test
    void aNullUsageOnEveryChunkThenTheRealOneIsReadWhereverTheChunksAreCut() {
        int usage = OPENAI.indexOf("\"usage\":{");
        for (int cut = 0; cut <= OPENAI.length(); cut++) {
            UsageReport r = read(Family.OPENAI, Endpoint.CHAT_COMPLETIONS, OPENAI, cut);
            assertThat(Payloads.describe(r)).as("cut at %d", cut)
                    .isEqualTo("model=gpt-4.1 in=412 out=41 cached=128 reasoning=null complete=true error=null");
        }
        // the usage event split into three pieces, inside its counts
        UsageReport r = read(Family.OPENAI, Endpoint.CHAT_COMPLETIONS, OPENAI, usage + 20, usage + 40);
        assertThat(r.inputTokens()).isEqualTo(412);
        assertThat(r.outputTokens()).isEqualTo(41);
    }

    @Test
    void theEventAfterOneThatLeavesTheParserUnfitIsReadAsIfAlone() {
        String start = "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"model\":\"claude\","
                + "\"usage\":{\"input_tokens\":425,\"output_tokens\":1}}}\n\n";
        String end = "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},"
                + "\"usage\":{\"output_tokens\":38}}\n\n"
                + "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";
        String[] unfit = {
            // cut short inside a string: malformed, and its parser inside a string
            "{\"type\":\"message_delta\",\"usage\":{\"output_tokens\":9},\"x\":\"open",
            // a number left at the top level after the object: well-formed, but the number is pending
            "{\"type\":\"message_delta\",\"usage\":{\"output_tokens\":20}} 7",
            // a separator after the object: malformed
            "{\"type\":\"message_delta\",\"usage\":{\"output_tokens\":20}},",
            // an object left open
            "{\"type\":\"message_delta\",\"usage\":{\"output_tokens\":20}",
        };
        for (String u : unfit) {
            String s = start + "event: message_delta\ndata: " + u + "\n\n" + end;
            for (int cut = 0; cut <= s.length(); cut += 5) {
                UsageReport r = read(Family.ANTHROPIC, Endpoint.MESSAGES, s, cut);
                assertThat(Payloads.describe(r)).as("%s cut at %d", u, cut)
                        .isEqualTo("model=claude in=425 out=38 cached=null reasoning=null complete=true error=null");
            }
        }
    }

    @Test
    void theUsageOfEveryEventCountsAndTheLastOneWins() {
        StringBuilder s = new StringBuilder();
        for (int i = 1; i <= 5; i++) {
            s.append("data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"w\"}]}").append(i == 5
                    ? ",\"finishReason\":\"STOP\"" : "").append("}],\"usageMetadata\":{\"promptTokenCount\":10,"
                    + "\"candidatesTokenCount\":").append(i).append(",\"totalTokenCount\":").append(10 + i)
                    .append("},\"modelVersion\":\"gemini-2.5-flash\"}\n\n");
            if (i == 2) {
                s.append("data: \uFEFF{\"usageMetadata\":{\"candidatesTokenCount\":99}}\n\n"); // a BOM first
            }
        }
        UsageReport r = read(Family.GEMINI, Endpoint.STREAM_GENERATE_CONTENT, s.toString());
        assertThat(Payloads.describe(r))
                .isEqualTo("model=gemini-2.5-flash in=10 out=5 cached=null reasoning=null complete=true error=null");
        // a usage on a non-final event is what a stream cut after it reports
        String cutShort = s.substring(0, s.indexOf("\n\n") + 2);
        UsageReport partial = read(Family.GEMINI, Endpoint.STREAM_GENERATE_CONTENT, cutShort);
        assertThat(partial.outputTokens()).isEqualTo(1);
        assertThat(partial.complete()).isFalse();
    }

    @Test
    void anEventReadInPlaceIsCopiedBeforeTheCallersArrayIsReused() {
        // as ResponseMeter feeds an off-heap buffer: through one array, overwritten after each feed
        byte[] b = OPENAI.replace("data: ", "data:").getBytes(StandardCharsets.UTF_8);
        for (int size = 1; size <= 64; size++) {
            UsageReader r = new UsageReader(ProviderCodec.of(Family.OPENAI).usageCollector(Endpoint.CHAT_COMPLETIONS),
                    "text/event-stream", SseParser.DEFAULT_MAX_EVENT_BYTES);
            byte[] scratch = new byte[size];
            for (int at = 0; at < b.length; at += size) {
                int n = Math.min(size, b.length - at);
                System.arraycopy(b, at, scratch, 0, n);
                r.feed(scratch, 0, n);
                java.util.Arrays.fill(scratch, (byte) '}');
            }
            assertThat(Payloads.describe(r.finish())).as("pieces of %d", size)
                    .isEqualTo("model=gpt-4.1 in=412 out=41 cached=128 reasoning=null complete=true error=null");
        }
    }
}
