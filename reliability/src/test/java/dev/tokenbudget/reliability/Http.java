package dev.tokenbudget.reliability;

import dev.tokenbudget.testing.Poll;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.BooleanSupplier;

/** A plain JDK HTTP/1.1 client for the gateway under test, and bounded polling. */
final class Http {

    private static final HttpClient CLIENT = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(10)).build();

    /** A whole response: status, first value of each header (lower-case names), body as text. */
    record Response(int status, Map<String, String> headers, String body) {

        String header(String name) {
            return headers.get(name.toLowerCase(Locale.ROOT));
        }
    }

    private Http() {
    }

    /** POSTs {@code body} with {@code headers} (name, value, ...) and reads the whole response. */
    static Response post(String url, String body, String... headers) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(90))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body, StandardCharsets.UTF_8));
        for (int i = 0; i + 1 < headers.length; i += 2) {
            b.header(headers[i], headers[i + 1]);
        }
        try {
            HttpResponse<String> r = CLIENT.send(b.build(), HttpResponse.BodyHandlers.ofString());
            Map<String, String> h = new TreeMap<>();
            r.headers().map().forEach((k, v) -> h.put(k.toLowerCase(Locale.ROOT), v.isEmpty() ? "" : v.get(0)));
            return new Response(r.statusCode(), h, r.body());
        } catch (IOException e) {
            throw new UncheckedIOException("POST " + url + ": " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** An OpenAI chat request whose prompt carries {@code marker}, so the upstream's record can be found. */
    static String chat(String marker, long maxTokens, boolean stream) {
        return "{\"model\":\"gpt-4o\",\"max_tokens\":" + maxTokens + ",\"stream\":" + stream
                + ",\"messages\":[{\"role\":\"user\",\"content\":\"How much of the budget is left? " + marker + "\"}]}";
    }

    /** Polls {@code condition} every 10 ms for up to two minutes. */
    static void await(String what, BooleanSupplier condition) {
        Poll.await(what, Duration.ofMinutes(2), condition);
    }
}
