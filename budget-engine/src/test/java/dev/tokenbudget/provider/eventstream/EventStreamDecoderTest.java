package dev.tokenbudget.provider.eventstream;

import dev.tokenbudget.provider.EventStreamFrames;
import dev.tokenbudget.provider.Endpoint;
import dev.tokenbudget.provider.Family;
import dev.tokenbudget.provider.UsageReader;
import dev.tokenbudget.provider.UsageReport;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.eventstream.HeaderValue;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32;

import static org.assertj.core.api.Assertions.assertThat;

/** Malformed AWS event streams end in a clear note, never an exception, a hang or an allocation of the claimed size. */
class EventStreamDecoderTest {

    private static final String METADATA = "{\"usage\":{\"inputTokens\":30,\"outputTokens\":12,\"totalTokens\":42},"
            + "\"metrics\":{\"latencyMs\":5}}";

    private static final class Recorder implements EventStreamDecoder.Listener {
        final List<String> events = new ArrayList<>();

        @Override
        public void onMessage(Map<String, HeaderValue> headers, byte[] payload) {
            events.add("message " + headers.get(":event-type").getString() + " "
                    + new String(payload, StandardCharsets.UTF_8));
        }

        @Override
        public void onSkipped(String why) {
            events.add("skipped " + why);
        }

        @Override
        public void onFailure(String why) {
            events.add("failure " + why);
        }
    }

    private static UsageReport converse(byte[] stream) {
        UsageReader r = UsageReader.of(Family.BEDROCK, Endpoint.CONVERSE_STREAM, "application/vnd.amazon.eventstream");
        r.feed(stream, 0, stream.length);
        return r.finish();
    }

    private static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }

    @Test
    void decodesWholeFramesFedOneByteAtATime() {
        byte[] s = concat(EventStreamFrames.event("messageStop", "{\"stopReason\":\"end_turn\"}"),
                EventStreamFrames.event("metadata", METADATA));
        Recorder r = new Recorder();
        EventStreamDecoder d = new EventStreamDecoder(r, 1 << 20);
        for (int i = 0; i < s.length; i++) {
            d.feed(s, i, 1);
        }
        d.finish();
        assertThat(r.events).containsExactly("message messageStop {\"stopReason\":\"end_turn\"}",
                "message metadata " + METADATA);
    }

    @Test
    void aBadPreludeChecksumStopsDecodingWithANote() {
        byte[] s = EventStreamFrames.event("metadata", METADATA);
        s[9] ^= 0x01;
        UsageReport u = converse(s);
        assertThat(u.known()).isFalse();
        assertThat(u.note()).contains("frame 1 at byte 0: prelude checksum mismatch");
    }

    @Test
    void aBadMessageChecksumSkipsThatFrameAndReadsTheNext() {
        byte[] bad = EventStreamFrames.event("contentBlockDelta", "{\"delta\":{\"text\":\"hi\"}}");
        bad[bad.length - 1] ^= 0x01;
        UsageReport u = converse(concat(bad, EventStreamFrames.event("metadata", METADATA)));
        assertThat(u.inputTokens()).isEqualTo(30);
        assertThat(u.outputTokens()).isEqualTo(12);
        assertThat(u.complete()).isTrue();
        assertThat(u.note()).startsWith("frame 1: ").containsIgnoringCase("checksum");
    }

    @Test
    void aPayloadByteFlippedFailsTheMessageChecksum() {
        byte[] s = EventStreamFrames.event("metadata", METADATA);
        s[s.length - 10] ^= 0x20;
        UsageReport u = converse(s);
        assertThat(u.known()).isFalse();
        assertThat(u.note()).startsWith("frame 1: ");
    }

    @Test
    void aStreamCutInsideThePreludeIsReportedAsTruncated() {
        byte[] whole = concat(EventStreamFrames.event("metadata", METADATA), EventStreamFrames.event("x", "{}"));
        int first = EventStreamFrames.event("metadata", METADATA).length;
        UsageReport u = converse(Arrays.copyOf(whole, first + 5));
        assertThat(u.inputTokens()).isEqualTo(30); // the whole first frame was read
        assertThat(u.note()).isEqualTo("the stream ended inside the prelude of frame 2 (5 of 12 bytes)");
    }

    @Test
    void aStreamCutInsideAFrameIsReportedAsTruncated() {
        byte[] s = EventStreamFrames.event("metadata", METADATA);
        UsageReport u = converse(Arrays.copyOf(s, s.length - 3));
        assertThat(u.known()).isFalse();
        assertThat(u.note()).isEqualTo("the stream ended inside frame 1 (" + (s.length - 3) + " of " + s.length
                + " bytes)");
    }

    /** A prelude with a valid checksum over the given lengths. */
    private static byte[] prelude(long total, long headers) {
        byte[] p = new byte[12];
        put(p, 0, total);
        put(p, 4, headers);
        CRC32 crc = new CRC32();
        crc.update(p, 0, 8);
        put(p, 8, crc.getValue());
        return p;
    }

    private static void put(byte[] b, int at, long v) {
        b[at] = (byte) (v >>> 24);
        b[at + 1] = (byte) (v >>> 16);
        b[at + 2] = (byte) (v >>> 8);
        b[at + 3] = (byte) v;
    }

    @Test
    void aHugeClaimedLengthIsSkippedWithoutBeingHeldAndTheStreamEndsTruncated() {
        // 4 GiB - 1 claimed, with a valid prelude checksum: counted off as it comes, never allocated
        byte[] s = concat(prelude(0xFFFF_FFFFL, 0), new byte[4096]);
        Recorder r = new Recorder();
        EventStreamDecoder d = new EventStreamDecoder(r, 16L << 20);
        d.feed(s, 0, s.length);
        d.finish();
        assertThat(r.events).containsExactly("skipped frame 1 of 4294967295 bytes exceeds 16777216 bytes and was skipped",
                "failure the stream ended inside frame 1 (skipped for its size), " + (0xFFFF_FFFFL - 12 - 4096)
                        + " bytes short");
    }

    @Test
    void aFrameOverTheBoundIsSkippedAndTheNextOneRead() {
        byte[] big = EventStreamFrames.event("contentBlockDelta", "{\"delta\":{\"text\":\"" + "x".repeat(300) + "\"}}");
        byte[] s = concat(big, EventStreamFrames.event("metadata", METADATA));
        Recorder r = new Recorder();
        EventStreamDecoder d = new EventStreamDecoder(r, 200);
        d.feed(s, 0, s.length);
        d.finish();
        assertThat(r.events).hasSize(2);
        assertThat(r.events.get(0)).startsWith("skipped frame 1 of " + big.length + " bytes exceeds 200 bytes");
        assertThat(r.events.get(1)).isEqualTo("message metadata " + METADATA);
    }

    @Test
    void impossibleLengthsStopDecoding() {
        Recorder r = new Recorder();
        EventStreamDecoder d = new EventStreamDecoder(r, 1 << 20);
        byte[] s = concat(prelude(20, 200_000), new byte[8]);
        d.feed(s, 0, s.length);
        d.finish();
        assertThat(r.events).containsExactly("failure frame 1 at byte 0: impossible lengths (total 20, headers 200000)");
    }

    @Test
    void textIsNotTakenForAnEventStream() {
        byte[] s = "{\"message\":\"not a frame but json\"}".getBytes(StandardCharsets.UTF_8);
        UsageReport u = converse(s);
        assertThat(u.known()).isFalse();
        assertThat(u.note()).contains("prelude checksum mismatch");
    }

    @Test
    void anExceptionFrameIsTheProvidersError() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(EventStreamFrames.event("messageStart", "{\"role\":\"assistant\"}"));
        Map<String, HeaderValue> h = new java.util.LinkedHashMap<>();
        h.put(":exception-type", HeaderValue.fromString("modelStreamErrorException"));
        h.put(":content-type", HeaderValue.fromString("application/json"));
        h.put(":message-type", HeaderValue.fromString("exception"));
        EventStreamFrames.frame(out, h, "{\"message\":\"the model stopped\"}".getBytes(StandardCharsets.UTF_8));
        UsageReport u = converse(out.toByteArray());
        assertThat(u.error()).isEqualTo("modelStreamErrorException: the model stopped");
        assertThat(u.known()).isFalse();
    }
}
