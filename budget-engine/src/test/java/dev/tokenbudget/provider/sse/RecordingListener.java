package dev.tokenbudget.provider.sse;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** Collects whole events from a parser, for comparing with what was written. */
final class RecordingListener implements SseListener {

    record Event(String type, String data) {
    }

    final List<Event> events = new ArrayList<>();
    int tooLarge;
    private String type;
    private final ByteArrayOutputStream data = new ByteArrayOutputStream();

    @Override
    public void onEventType(String t) {
        type = t;
    }

    @Override
    public void onData(byte[] b, int off, int len) {
        data.write(b, off, len);
    }

    @Override
    public void onEventEnd() {
        events.add(new Event(type, data.toString(StandardCharsets.UTF_8)));
        data.reset();
        type = null;
    }

    @Override
    public void onEventSkipped() {
        type = null;
    }

    @Override
    public void onEventTooLarge() {
        tooLarge++;
        data.reset();
        type = null;
    }

    /**
     * What a parser allowing events of {@code maxEventBytes} reports for {@code b} fed in pieces
     * cut at the offsets {@code cuts} (ascending).
     */
    static RecordingListener parse(byte[] b, long maxEventBytes, int... cuts) {
        RecordingListener l = new RecordingListener();
        SseParser p = new SseParser(l, maxEventBytes);
        int from = 0;
        for (int c : cuts) {
            p.feed(b, from, c - from);
            from = c;
        }
        p.feed(b, from, b.length - from);
        return l;
    }

    /** Bytes currently held for the event in progress. */
    int held() {
        return data.size();
    }
}
