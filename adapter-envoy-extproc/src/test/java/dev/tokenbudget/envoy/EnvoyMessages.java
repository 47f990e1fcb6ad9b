package dev.tokenbudget.envoy;

import com.google.protobuf.ByteString;
import io.envoyproxy.envoy.config.core.v3.HeaderMap;
import io.envoyproxy.envoy.config.core.v3.HeaderValue;
import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ProcessingMode.BodySendMode;
import io.envoyproxy.envoy.service.ext_proc.v3.HttpBody;
import io.envoyproxy.envoy.service.ext_proc.v3.HttpHeaders;
import io.envoyproxy.envoy.service.ext_proc.v3.HttpTrailers;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingRequest;
import io.envoyproxy.envoy.service.ext_proc.v3.ProtocolConfiguration;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The {@link ProcessingRequest}s Envoy's ext_proc filter builds: lower-case header names, values
 * in {@code raw_value} (never {@code value}), pseudo-headers first, {@code protocol_config} on the
 * first message of a stream only, {@code observability_mode} set on every message of a filter in
 * that mode.
 */
final class EnvoyMessages {

    /** What examples/envoy/envoy.yaml announces. */
    static final ProtocolConfiguration EXAMPLE_CONFIG = ProtocolConfiguration.newBuilder()
            .setRequestBodyMode(BodySendMode.BUFFERED)
            .setResponseBodyMode(BodySendMode.NONE)
            .build();

    private EnvoyMessages() {
    }

    static HeaderMap headerMap(Map<String, String> headers) {
        HeaderMap.Builder m = HeaderMap.newBuilder();
        headers.forEach((k, v) -> m.addHeaders(HeaderValue.newBuilder().setKey(k)
                .setRawValue(ByteString.copyFrom(v, StandardCharsets.UTF_8))));
        return m.build();
    }

    /** The request headers of a POST of a JSON body to {@code path}, with the client's extra headers. */
    static Map<String, String> post(String path, int contentLength, Map<String, String> extra) {
        Map<String, String> h = new LinkedHashMap<>();
        h.put(":authority", "llm.acme.internal:10000");
        h.put(":path", path);
        h.put(":method", "POST");
        h.put(":scheme", "http");
        h.put("content-type", "application/json");
        h.put("content-length", Integer.toString(contentLength));
        h.put("user-agent", "OpenAI/Python 1.82.0");
        h.putAll(extra);
        h.put("x-forwarded-proto", "http");
        h.put("x-request-id", "5f0c1e9a-3b7d-4c2e-9a61-0e8f2b7d4c13");
        return h;
    }

    static ProcessingRequest requestHeaders(Map<String, String> headers, boolean endOfStream,
                                            ProtocolConfiguration config) {
        ProcessingRequest.Builder r = ProcessingRequest.newBuilder().setRequestHeaders(
                HttpHeaders.newBuilder().setHeaders(headerMap(headers)).setEndOfStream(endOfStream));
        if (config != null) {
            r.setProtocolConfig(config);
        }
        return r.build();
    }

    static ProcessingRequest requestBody(byte[] body, boolean endOfStream) {
        return ProcessingRequest.newBuilder().setRequestBody(HttpBody.newBuilder()
                .setBody(ByteString.copyFrom(body)).setEndOfStream(endOfStream)).build();
    }

    static ProcessingRequest requestTrailers(Map<String, String> trailers) {
        return ProcessingRequest.newBuilder().setRequestTrailers(HttpTrailers.newBuilder()
                .setTrailers(headerMap(trailers))).build();
    }

    static ProcessingRequest responseHeaders(int status, String contentType, boolean endOfStream) {
        Map<String, String> h = new LinkedHashMap<>();
        h.put(":status", Integer.toString(status));
        h.put("date", "Tue, 13 May 2025 09:14:07 GMT");
        if (contentType != null) {
            h.put("content-type", contentType);
        }
        h.put("x-request-id", "req_8c5b2d0e1f7a4b6c");
        h.put("x-envoy-upstream-service-time", "412");
        return ProcessingRequest.newBuilder().setResponseHeaders(HttpHeaders.newBuilder()
                .setHeaders(headerMap(h)).setEndOfStream(endOfStream)).build();
    }

    static ProcessingRequest responseBody(byte[] chunk, boolean endOfStream) {
        return ProcessingRequest.newBuilder().setResponseBody(HttpBody.newBuilder()
                .setBody(ByteString.copyFrom(chunk)).setEndOfStream(endOfStream)).build();
    }

    static ProcessingRequest responseTrailers(Map<String, String> trailers) {
        return ProcessingRequest.newBuilder().setResponseTrailers(HttpTrailers.newBuilder()
                .setTrailers(headerMap(trailers))).build();
    }

    static ProcessingRequest observed(ProcessingRequest r) {
        return r.toBuilder().setObservabilityMode(true).build();
    }

    /** {@code bytes} cut into {@code parts} chunks of uneven sizes, as upstream reads arrive. */
    static List<byte[]> split(byte[] bytes, int parts) {
        List<byte[]> out = new ArrayList<>();
        int from = 0;
        for (int i = 0; i < parts; i++) {
            int remaining = bytes.length - from;
            int left = parts - i;
            // uneven: a third of the fair share more or less, always at least one byte
            int size = left == 1 ? remaining : Math.max(1, remaining / left + (i % 2 == 0 ? 1 : -1)
                    * (remaining / left / 3));
            out.add(java.util.Arrays.copyOfRange(bytes, from, from + size));
            from += size;
        }
        return out;
    }
}
