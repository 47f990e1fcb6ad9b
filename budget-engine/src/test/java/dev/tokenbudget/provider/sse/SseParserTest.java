package dev.tokenbudget.provider.sse;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class SseParserTest {

    private static RecordingListener parse(String stream, int... cuts) {
        return RecordingListener.parse(stream.getBytes(StandardCharsets.UTF_8), SseParser.DEFAULT_MAX_EVENT_BYTES,
                cuts);
    }

    @Test
    void readsTypesAndDataOfEvents() {
        RecordingListener l = parse("event: message_start\ndata: {\"a\":1}\n\ndata: second\n\n");
        assertThat(l.events).containsExactly(new RecordingListener.Event("message_start", "{\"a\":1}"),
                new RecordingListener.Event(null, "second"));
    }

    @Test
    void passesOnEachEventsOwnTypeWhenTypesRepeatChangeGrowAndAreCutAnywhere() {
        // the parser keeps a line in a buffer that grows, and makes a repeated type a String once
        String longType = "t".repeat(70) + "é";
        String s = "event: delta\ndata: 1\n\nevent: delta\ndata: 2\n\nevent: delt\ndata: 3\n\nevent: " + longType
                + "\ndata: 4\n\nevent: delta\ndata: 5\n\nevent: " + longType.substring(1) + "\ndata: 6\n\n"
                + "event: " + "x".repeat(SseParser.FIELD_CAP) + "\ndata: 7\n\n";
        for (int cut = 0; cut <= s.length(); cut += 3) {
            assertThat(parse(s, cut).events).as("cut %d", cut).containsExactly(
                    new RecordingListener.Event("delta", "1"), new RecordingListener.Event("delta", "2"),
                    new RecordingListener.Event("delt", "3"), new RecordingListener.Event(longType, "4"),
                    new RecordingListener.Event("delta", "5"), new RecordingListener.Event(longType.substring(1), "6"),
                    new RecordingListener.Event(null, "7"));
        }
    }

    @Test
    void joinsDataLinesWithNewlineAndStripsOneLeadingSpaceOnly() {
        RecordingListener l = parse("data:a\ndata:  b\ndata\n\n");
        assertThat(l.events).containsExactly(new RecordingListener.Event(null, "a\n b\n"));
    }

    @Test
    void acceptsCrLfAndLoneCrAsLineEndsEvenSplitBetweenCrAndLf() {
        String s = "data: x\r\n\r\ndata: y\r\rdata: z\n\n";
        int crlf = s.indexOf("\r\n") + 1;
        for (int cut = 0; cut <= s.length(); cut++) {
            assertThat(parse(s, cut).events).as("cut %d", cut).extracting(RecordingListener.Event::data)
                    .containsExactly("x", "y", "z");
        }
        assertThat(parse(s, crlf).events).hasSize(3);
    }

    @Test
    void ignoresCommentsIdsRetryAndUnknownFields() {
        RecordingListener l = parse(": keep-alive\nid: 7\nretry: 1000\nfoo: bar\ndata: d\n\n: ping\n\n");
        assertThat(l.events).containsExactly(new RecordingListener.Event(null, "d"));
    }

    @Test
    void eventWithoutDataIsNotDispatchedAndItsTypeDoesNotLeakIntoTheNext() {
        RecordingListener l = parse("event: ping\n\ndata: d\n\n");
        assertThat(l.events).containsExactly(new RecordingListener.Event(null, "d"));
    }

    @Test
    void skipsAUtf8ByteOrderMarkEvenWhenSplit() {
        byte[] body = "data: d\n\n".getBytes(StandardCharsets.UTF_8);
        byte[] withBom = new byte[body.length + 3];
        withBom[0] = (byte) 0xEF;
        withBom[1] = (byte) 0xBB;
        withBom[2] = (byte) 0xBF;
        System.arraycopy(body, 0, withBom, 3, body.length);
        for (int cut = 0; cut <= withBom.length; cut++) {
            assertThat(RecordingListener.parse(withBom, 1 << 20, cut).events).as("cut %d", cut)
                    .containsExactly(new RecordingListener.Event(null, "d"));
        }
    }

    @Test
    void unterminatedLastEventIsNotDispatched() {
        assertThat(parse("data: a\n\ndata: b").events).extracting(RecordingListener.Event::data).containsExactly("a");
    }

    @Test
    void dropsAnEventOverTheCapAndKeepsReadingTheNextOnes() {
        String big = "x".repeat(5000);
        RecordingListener l = RecordingListener.parse(("data: small\n\ndata: " + big
                + "\ndata: more\n\nevent: e\ndata: after\n\n").getBytes(StandardCharsets.UTF_8), 1000);
        assertThat(l.tooLarge).isEqualTo(1);
        assertThat(l.events).containsExactly(new RecordingListener.Event(null, "small"),
                new RecordingListener.Event("e", "after"));
    }

    @Test
    void overLongCommentAndEventLinesAreCutWithoutHarm() {
        String s = ": " + "c".repeat(100_000) + "\nevent: " + "t".repeat(5000) + "\ndata: d\n\n";
        RecordingListener l = parse(s);
        assertThat(l.events).hasSize(1);
        assertThat(l.events.get(0).data()).isEqualTo("d");
        assertThat(l.events.get(0).type()).as("a type over the field cap is ignored").isNull();
    }

    @Test
    void passesInvalidUtf8ThroughAsBytesWithoutFailing() {
        byte[] b = {'d', 'a', 't', 'a', ':', ' ', (byte) 0xC3, (byte) 0x28, (byte) 0xFF, '\n', '\n', 'd', 'a', 't',
            'a', ':', 'o', 'k', '\n', '\n'};
        RecordingListener l = RecordingListener.parse(b, 1 << 20);
        assertThat(l.events).hasSize(2);
        assertThat(l.events.get(1).data()).isEqualTo("ok");
    }

    @Test
    void doesNotChangeTheCallersBytes() {
        byte[] b = "event: a\r\ndata: {\"x\":\"é\"}\r\n\r\n".getBytes(StandardCharsets.UTF_8);
        byte[] copy = b.clone();
        RecordingListener.parse(b, 1 << 20, 3, 9, 17);
        assertThat(b).isEqualTo(copy);
    }

    @Test
    void rejectsANonPositiveCap() {
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> new SseParser(new RecordingListener(), 0))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("maxEventBytes");
    }

    @Test
    void multiByteCharactersSplitAnywhereArriveIntact() {
        String s = "data: 你好 👋 ça\n\n";
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        for (int cut = 0; cut <= b.length; cut++) {
            assertThat(RecordingListener.parse(b, 1 << 20, cut).events).as("cut %d", cut)
                    .isEqualTo(List.of(new RecordingListener.Event(null, "你好 👋 ça")));
        }
    }
}
