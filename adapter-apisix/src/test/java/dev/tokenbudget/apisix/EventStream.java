package dev.tokenbudget.apisix;

import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;

/** A server-sent-event stream as the client read it: its {@code data:} lines and when the first came. */
record EventStream(int status, String contentType, List<String> events, long firstEventNanos, long totalNanos) {

    /** Sends {@code r} and reads the answer to its end; counts {@code onFirstEvent} down at the first event. */
    static EventStream read(HttpClient http, HttpRequest r, CountDownLatch onFirstEvent) throws Exception {
        long t0 = System.nanoTime();
        HttpResponse<InputStream> resp = http.send(r, HttpResponse.BodyHandlers.ofInputStream());
        List<String> events = new ArrayList<>();
        long first = -1;
        try (BufferedReader in = new BufferedReader(new InputStreamReader(resp.body(), StandardCharsets.UTF_8))) {
            for (String line = in.readLine(); line != null; line = in.readLine()) {
                if (line.startsWith("data:")) {
                    if (first < 0) {
                        first = System.nanoTime() - t0;
                        if (onFirstEvent != null) {
                            onFirstEvent.countDown();
                        }
                    }
                    events.add(line);
                }
            }
        }
        return new EventStream(resp.statusCode(), resp.headers().firstValue("content-type").orElse(""), events, first,
                System.nanoTime() - t0);
    }
}
