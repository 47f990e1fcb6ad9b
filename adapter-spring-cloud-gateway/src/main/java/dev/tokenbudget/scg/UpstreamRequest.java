package dev.tokenbudget.scg;

import dev.tokenbudget.gateway.Forward;
import org.springframework.core.io.buffer.DataBuffer;
import org.springframework.core.io.buffer.DataBufferFactory;
import org.springframework.http.HttpHeaders;
import org.springframework.http.server.reactive.ServerHttpRequest;
import org.springframework.http.server.reactive.ServerHttpRequestDecorator;
import reactor.core.publisher.Flux;

import java.net.URI;
import java.util.Map;

/**
 * The request as it goes upstream, built from a {@link Forward}: key headers removed, the
 * upstream credential and route directive set, the client's body passed on as the buffers it
 * came in (or the rewritten body) with a matching {@code content-length}, and the path changed
 * when the model lives in it.
 */
final class UpstreamRequest {

    private UpstreamRequest() {
    }

    /**
     * @param upstream the route's URI (scheme and authority of the upstream), for a signed provider;
     *                 null when unknown
     * @throws RuntimeException when the forward's signer cannot sign (no credentials)
     */
    static ServerHttpRequest of(ServerHttpRequest client, Forward forward, RequestBody clientBody,
                                DataBufferFactory buffers, URI upstream) {
        byte[] rewritten = forward.body();
        int length = rewritten != null ? rewritten.length : clientBody.length();
        boolean hadBody = length > 0 || client.getHeaders().getContentLength() >= 0;
        ServerHttpRequest.Builder b = client.mutate();
        URI uri = client.getURI();
        if (forward.path() != null) {
            b.uri(URI.create(uri.getScheme() + "://" + uri.getRawAuthority() + forward.path()));
        }
        Map<String, String> signed = forward.signer() == null || upstream == null ? Map.of()
                : forward.sign(client.getMethod().name(), URI.create(upstream.getScheme() + "://"
                + upstream.getRawAuthority() + pathAndQuery(uri, forward)), contentType(client),
                rewritten != null ? rewritten : clientBody.toArray());
        b.headers(h -> {
            forward.removeHeaders().forEach(h::remove);
            forward.setHeaders().forEach(h::set);
            signed.forEach(h::set);
            h.remove(HttpHeaders.TRANSFER_ENCODING);
            if (hadBody) {
                h.setContentLength(length);
            }
        });
        return new ServerHttpRequestDecorator(b.build()) {
            @Override
            public Flux<DataBuffer> getBody() {
                // per subscription: a retried upstream call replays the same bytes
                return rewritten != null ? Flux.defer(() -> Flux.just(buffers.wrap(rewritten)))
                        : clientBody.replay(buffers);
            }
        };
    }

    /** The path and query as sent upstream; built only for a signed provider. */
    private static String pathAndQuery(URI uri, Forward forward) {
        return forward.path() != null ? forward.path()
                : uri.getRawPath() + (uri.getRawQuery() == null ? "" : "?" + uri.getRawQuery());
    }

    private static Map<String, String> contentType(ServerHttpRequest client) {
        String ct = client.getHeaders().getFirst(HttpHeaders.CONTENT_TYPE);
        return ct == null ? Map.of() : Map.of("content-type", ct);
    }
}
