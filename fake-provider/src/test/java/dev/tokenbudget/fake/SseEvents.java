package dev.tokenbudget.fake;

import java.util.ArrayList;
import java.util.List;

/** Splits a complete SSE body into its events, for assertions (tests only). */
record SseEvents(List<Event> events) {

    record Event(String name, String data) {
    }

    static SseEvents parse(String body) {
        List<Event> out = new ArrayList<>();
        for (String block : body.split("\n\n")) {
            if (block.isBlank()) {
                continue;
            }
            String name = null;
            StringBuilder data = new StringBuilder();
            for (String line : block.split("\n")) {
                if (line.startsWith("event: ")) {
                    name = line.substring(7);
                } else if (line.startsWith("data: ")) {
                    data.append(line.substring(6));
                } else {
                    throw new AssertionError("unexpected SSE line: " + line);
                }
            }
            out.add(new Event(name, data.toString()));
        }
        return new SseEvents(out);
    }

    List<String> names() {
        return events.stream().map(Event::name).toList();
    }

    List<String> data() {
        return events.stream().map(Event::data).toList();
    }
}
