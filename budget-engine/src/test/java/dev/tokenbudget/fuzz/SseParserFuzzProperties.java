package dev.tokenbudget.fuzz;

import dev.tokenbudget.provider.sse.SseListener;
import dev.tokenbudget.provider.sse.SseParser;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.LongRange;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Fuzzing of the SSE decoder with byte soup made of the format's own pieces (field names, colons,
 * every line ending, byte order marks, invalid UTF-8): the decoded events are the same for every
 * chunking, the data handed on never exceeds what came in, and nothing throws.
 */
class SseParserFuzzProperties {

    private static final List<String> PIECES = List.of("data:", "data: ", "data", "event:", "event: message_delta",
            "event", ":", ": ping", "id: 7", "retry: 10", "\n", "\r", "\r\n", "\n\n", "\r\n\r\n", "\uFEFF", "{", "}",
            "\"usage\"", " ", "x", "é", "👋", "[DONE]");

    @Provide
    Arbitrary<byte[]> soups() {
        Arbitrary<byte[]> piece = Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(8, Arbitraries.of(PIECES).map(p -> p.getBytes(StandardCharsets.UTF_8))),
                net.jqwik.api.Tuple.of(1, Arbitraries.bytes().array(byte[].class).ofMaxSize(4)),
                net.jqwik.api.Tuple.of(1, Arbitraries.integers().between(1, 3000)
                        .map(n -> "y".repeat(n).getBytes(StandardCharsets.US_ASCII))));
        return piece.list().ofMaxSize(60).map(ps -> {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            ps.forEach(out::writeBytes);
            return out.toByteArray();
        });
    }

    @Property(tries = 1500)
    void anySoupDecodesAlikeForEveryChunking(@ForAll("soups") byte[] soup,
                                             @ForAll @LongRange(min = 1, max = 4000) long maxEventBytes,
                                             @ForAll long seed) {
        Recorder whole = decode(soup, maxEventBytes, new int[0], false);
        Recorder chunked = decode(soup, maxEventBytes, Chunks.cuts(soup.length, seed), false);
        Recorder bytewise = decode(soup, maxEventBytes, null, true);

        assertThat(chunked.calls).as(Chunks.show(soup)).isEqualTo(whole.calls);
        assertThat(bytewise.calls).as(Chunks.show(soup)).isEqualTo(whole.calls);
        // the decoder forwards data and joins data lines with one '\n' where a line ending stood
        assertThat(whole.dataBytes).isLessThanOrEqualTo(soup.length);
    }

    static Recorder decode(byte[] soup, long max, int[] cuts, boolean bytewise) {
        Recorder r = new Recorder(max);
        SseParser p = new SseParser(r, max);
        if (bytewise) {
            Chunks.feedBytewise(soup, p::feed);
        } else {
            Chunks.feed(soup, cuts, p::feed);
        }
        return r;
    }

    /** The listener calls, with an event's data joined (pieces depend on the chunking; events must not). */
    static final class Recorder implements SseListener {
        final List<String> calls = new ArrayList<>();
        final long max;
        long dataBytes;
        private final ByteArrayOutputStream data = new ByteArrayOutputStream();

        Recorder(long max) {
            this.max = max;
        }

        @Override
        public void onEventType(String type) {
            calls.add("type " + type);
        }

        @Override
        public void onData(byte[] bytes, int offset, int length) {
            assertThat(length).isPositive();
            data.write(bytes, offset, length);
            dataBytes += length;
            assertThat((long) data.size()).as("an event's data stays within the cap").isLessThanOrEqualTo(max);
        }

        @Override
        public void onEventEnd() {
            calls.add("event " + Chunks.show(data.toByteArray()));
            data.reset();
        }

        @Override
        public void onEventSkipped() {
            calls.add("skipped");
        }

        @Override
        public void onEventTooLarge() {
            calls.add("too large");
            data.reset();
        }
    }
}
