package dev.tokenbudget.scg;

import dev.tokenbudget.gateway.Reply;
import org.springframework.core.io.buffer.DataBuffer;
import org.springframework.http.HttpStatusCode;
import org.springframework.http.server.reactive.ServerHttpResponse;
import reactor.core.publisher.Mono;

/** Writes an engine {@link Reply} (401, 400, 403, 413, 429, 503) as the client's response. */
final class Replies {

    private Replies() {
    }

    static Mono<Void> write(ServerHttpResponse response, Reply reply) {
        response.setStatusCode(HttpStatusCode.valueOf(reply.status()));
        reply.headers().forEach((k, v) -> response.getHeaders().set(k, v));
        response.getHeaders().setContentLength(reply.body().length);
        DataBuffer buffer = response.bufferFactory().wrap(reply.body());
        return response.writeWith(Mono.just(buffer));
    }
}
