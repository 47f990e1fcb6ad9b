package dev.tokenbudget.console;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/** Reads a running gateway's admin API for the commands that show what it knows (status, ledger). */
final class AdminClient {

    private AdminClient() {
    }

    /** The admin API could not be asked, or refused: the message says why, for the command's error line. */
    static final class Failure extends Exception {
        private static final long serialVersionUID = 1L;

        Failure(String message) {
            super(message);
        }
    }

    /**
     * GETs {@code path} from the admin API at {@code base} with the bearer token; the JSON body of a
     * 200 answer, else a {@link Failure} saying what went wrong and what to check.
     */
    static JsonNode get(String base, String path, String token, String tokenEnv) throws Failure {
        URI uri;
        try {
            uri = URI.create(base.replaceAll("/+$", "") + path);
            if (uri.getHost() == null || !(uri.getScheme().equals("http") || uri.getScheme().equals("https"))) {
                throw new IllegalArgumentException("not an http(s) URL");
            }
        } catch (IllegalArgumentException e) {
            throw new Failure("bad --url '" + base + "': " + e.getMessage());
        }
        HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        HttpRequest req = HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(15))
                .header("Authorization", "Bearer " + token).header("Accept", "application/json").GET().build();
        HttpResponse<String> res;
        try {
            res = client.send(req, HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new Failure("cannot reach the admin API at " + base + " (" + e.getClass().getSimpleName()
                    + (e.getMessage() == null ? "" : ": " + e.getMessage()) + "); is the gateway running, with its "
                    + "admin port there?");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new Failure("interrupted");
        }
        if (res.statusCode() == 401) {
            throw new Failure("the admin API at " + base + " refused the token (401); use the "
                    + tokenEnv + " the gateway printed or was started with");
        }
        JsonNode body;
        try {
            body = new ObjectMapper().readTree(res.body());
        } catch (IOException e) {
            throw new Failure(base + path + " answered " + res.statusCode() + " with something that is not "
                    + "JSON; is this the tokenbudget admin port?");
        }
        if (res.statusCode() != 200) {
            throw new Failure(base + path + " answered " + res.statusCode() + ": "
                    + body.path("error").path("message").asText("(no message)"));
        }
        return body;
    }
}
