package dev.tokenbudget.provider.sse;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/** Properties of the SSE parser over generated streams, line endings and chunkings. */
class SseParserProperties {

    @Provide
    Arbitrary<List<RecordingListener.Event>> events() {
        Arbitrary<String> type = Arbitraries.of("message_start", "content_block_delta", "response.completed", "ping")
                .injectNull(0.4);
        // data lines: any text without line breaks, including multi-byte and astral characters
        Arbitrary<String> piece = Arbitraries.oneOf(Arbitraries.strings().withCharRange(' ', '~').ofMaxLength(8),
                Arbitraries.of("é", "ü", "你好", "👋", "\u0000", "\t", ":", " "));
        Arbitrary<String> line = piece.list().ofMaxSize(6).map(ps -> String.join("", ps));
        Arbitrary<String> data = line.list().ofMinSize(1).ofMaxSize(3).map(ls -> String.join("\n", ls));
        return Combinators.combine(type, data).as(RecordingListener.Event::new).list().ofMaxSize(8);
    }

    @Provide
    Arbitrary<String> lineEnd() {
        return Arbitraries.of("\n", "\r\n", "\r");
    }

    /** Writes events as a stream: optional comments, "data:" with or without a space, the given line end. */
    static byte[] write(List<RecordingListener.Event> events, String eol, long seed) {
        Random r = new Random(seed);
        StringBuilder sb = new StringBuilder();
        for (RecordingListener.Event e : events) {
            if (r.nextInt(4) == 0) {
                sb.append(": comment").append(eol);
            }
            if (e.type() != null) {
                sb.append("event: ").append(e.type()).append(eol);
            }
            for (String l : e.data().split("\n", -1)) {
                // a line that starts with a space needs the separator space so it survives the strip
                sb.append("data:").append(r.nextBoolean() || l.startsWith(" ") ? " " : "").append(l).append(eol);
            }
            sb.append(eol);
        }
        return sb.toString().getBytes(StandardCharsets.UTF_8);
    }

    /** Events as printable text, so a failure report survives control characters. */
    static String show(List<RecordingListener.Event> events) {
        StringBuilder sb = new StringBuilder();
        for (RecordingListener.Event e : events) {
            sb.append('[').append(e.type()).append("|");
            e.data().codePoints().forEach(c -> sb.append(c < 0x20 ? "\\u" + Integer.toHexString(c) : Character.toString(c)));
            sb.append("]\n");
        }
        return sb.toString();
    }

    static int[] cuts(int length, long seed, int count) {
        return new Random(seed).ints(count, 0, length + 1).sorted().toArray();
    }

    @Property(tries = 300)
    void anyChunkingYieldsTheEventsThatWereWritten(@ForAll("events") List<RecordingListener.Event> events,
                                                    @ForAll("lineEnd") String eol, @ForAll long seed,
                                                    @ForAll @IntRange(min = 0, max = 30) int pieces) {
        byte[] b = write(events, eol, seed);
        RecordingListener l = RecordingListener.parse(b, Long.MAX_VALUE, cuts(b.length, seed, pieces));
        assertThat(show(l.events)).isEqualTo(show(events));
    }

    @Property(tries = 100)
    void byteByByteFeedingYieldsTheSameEvents(@ForAll("events") List<RecordingListener.Event> events,
                                              @ForAll("lineEnd") String eol, @ForAll long seed) {
        byte[] b = write(events, eol, seed);
        int[] every = new int[b.length];
        for (int i = 0; i < b.length; i++) {
            every[i] = i;
        }
        assertThat(show(RecordingListener.parse(b, Long.MAX_VALUE, every).events)).isEqualTo(show(events));
    }

    @Property(tries = 100)
    void eventsOverTheCapAreDroppedAndAllOthersSurvive(@ForAll("events") List<RecordingListener.Event> events,
                                                       @ForAll("lineEnd") String eol, @ForAll long seed,
                                                       @ForAll @IntRange(min = 1, max = 60) int cap) {
        byte[] b = write(events, eol, seed);
        RecordingListener l = RecordingListener.parse(b, cap, cuts(b.length, seed, 7));
        List<RecordingListener.Event> kept = new ArrayList<>();
        int dropped = 0;
        for (RecordingListener.Event e : events) {
            if (e.data().getBytes(StandardCharsets.UTF_8).length <= cap) {
                kept.add(e);
            } else {
                dropped++;
            }
        }
        assertThat(show(l.events)).isEqualTo(show(kept));
        assertThat(l.tooLarge).isEqualTo(dropped);
    }

    @Property(tries = 50)
    void memoryStaysBoundedOnAStreamWithoutLineBreaks(@ForAll @IntRange(min = 1, max = 50) int megabytesTenths) {
        // a hostile upstream that never ends a line: the parser holds at most the field cap
        RecordingListener l = new RecordingListener();
        SseParser p = new SseParser(l, 1000);
        byte[] chunk = new byte[8192];
        java.util.Arrays.fill(chunk, (byte) 'x');
        byte[] start = "data: ".getBytes(StandardCharsets.US_ASCII);
        p.feed(start, 0, start.length);
        for (int i = 0; i < megabytesTenths * 13; i++) {
            p.feed(chunk, 0, chunk.length);
        }
        assertThat(l.held()).isLessThanOrEqualTo(1000);
        assertThat(l.tooLarge).isEqualTo(1);
        ByteArrayOutputStream unused = new ByteArrayOutputStream();
        assertThat(unused.size()).isZero();
    }
}
