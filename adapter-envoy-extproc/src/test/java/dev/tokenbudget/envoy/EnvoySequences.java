package dev.tokenbudget.envoy;

import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingResponse;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static dev.tokenbudget.envoy.EnvoyMessages.post;
import static dev.tokenbudget.envoy.EnvoyMessages.requestBody;
import static dev.tokenbudget.envoy.EnvoyMessages.requestHeaders;
import static dev.tokenbudget.envoy.EnvoyMessages.responseBody;
import static dev.tokenbudget.envoy.EnvoyMessages.responseHeaders;
import static dev.tokenbudget.envoy.EnvoyMessages.split;

/**
 * Whole exchanges as Envoy drives them (with examples/envoy/envoy.yaml unless the stream's filter
 * says otherwise): request headers announcing the filter's modes, the BUFFERED request body,
 * response headers, then the response body in chunks, each message waiting for its answer.
 */
final class EnvoySequences {

    /** The answers Envoy got, in order. */
    record Answers(ProcessingResponse requestHeaders, ProcessingResponse requestBody,
                   ProcessingResponse responseHeaders, List<ProcessingResponse> responseBody) {
    }

    private EnvoySequences() {
    }

    static Map<String, String> bearer(String key) {
        Map<String, String> h = new LinkedHashMap<>();
        h.put("authorization", "Bearer " + key);
        return h;
    }

    static Map<String, String> anthropicKey(String key) {
        Map<String, String> h = new LinkedHashMap<>();
        h.put("x-api-key", key);
        h.put("anthropic-version", "2023-06-01");
        return h;
    }

    /** Request headers and body; returns both answers (the body's may be an immediate response). */
    static ProcessingResponse[] request(EnvoyStream s, String path, Map<String, String> client, byte[] body) {
        ProcessingResponse h = s.exchange(requestHeaders(post(path, body.length, client), false, s.envoy().announced()));
        if (h.hasImmediateResponse()) {
            return new ProcessingResponse[] {h, null};
        }
        return new ProcessingResponse[] {h, s.exchange(requestBody(body, true))};
    }

    /** A full exchange: the response body is sent in {@code chunks} uneven chunks. */
    static Answers full(EnvoyStream s, String path, Map<String, String> client, byte[] requestBody,
                        String contentType, byte[] responseBody, int chunks) {
        ProcessingResponse[] req = request(s, path, client, requestBody);
        ProcessingResponse rh = s.exchange(responseHeaders(200, contentType, false));
        List<ProcessingResponse> body = new ArrayList<>();
        List<byte[]> parts = split(responseBody, chunks);
        for (int i = 0; i < parts.size(); i++) {
            body.add(s.exchange(responseBody(parts.get(i), i == parts.size() - 1)));
        }
        return new Answers(req[0], req[1], rh, body);
    }
}
