package dev.tokenbudget.scg;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import org.junit.jupiter.api.Test;
import org.springframework.core.io.buffer.DataBuffer;
import org.springframework.core.io.buffer.DataBufferUtils;
import org.springframework.core.io.buffer.NettyDataBuffer;
import org.springframework.core.io.buffer.NettyDataBufferFactory;
import org.springframework.http.HttpMethod;
import org.springframework.mock.http.server.reactive.MockServerHttpRequest;
import reactor.core.publisher.Flux;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The held request body: read in place from Netty's pooled, off-heap buffers as they arrived in
 * pieces, replayed upstream as the same memory with a reference per subscription, and every
 * reference let go once the exchange and the upstream writes are done.
 */
class RequestBodyTest {

    private final NettyDataBufferFactory factory = new NettyDataBufferFactory(PooledByteBufAllocator.DEFAULT);

    private DataBuffer piece(String s) {
        ByteBuf b = PooledByteBufAllocator.DEFAULT.directBuffer();
        b.writeBytes(s.getBytes(StandardCharsets.UTF_8));
        return factory.wrap(b);
    }

    private RequestBody held(List<DataBuffer> pieces) {
        MockServerHttpRequest request = MockServerHttpRequest.method(HttpMethod.POST, "/v1/chat/completions")
                .body(Flux.fromIterable(pieces));
        Optional<RequestBody> read = RequestBody.read(request, 1 << 20).block();
        assertThat(read).isPresent();
        return read.get();
    }

    @Test
    void piecesAreReadInPlaceAndReplayedAsTheSameBytesUntilEveryReferenceIsLetGo() {
        List<DataBuffer> pieces = List.of(piece("{\"model\":\"gp"), piece("t-4o\",\"messages\":"), piece("[]}"));
        ByteBuf first = ((NettyDataBuffer) pieces.get(0)).getNativeBuffer();
        RequestBody body = held(pieces);

        assertThat(body.length()).isEqualTo("{\"model\":\"gpt-4o\",\"messages\":[]}".length());
        String read = body.read(bytes -> new String(bytes.toArray(), StandardCharsets.UTF_8));
        assertThat(read).isEqualTo("{\"model\":\"gpt-4o\",\"messages\":[]}");

        // two upstream subscriptions (a retry), each written and released as Netty would
        List<String> sent = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            DataBuffer up = body.replay(factory).blockLast();
            sent.add(up.toString(StandardCharsets.UTF_8));
            DataBufferUtils.release(up);
        }
        assertThat(sent).containsOnly("{\"model\":\"gpt-4o\",\"messages\":[]}");
        assertThat(first.refCnt()).as("still held by the exchange").isPositive();

        body.release();
        body.release(); // once only
        assertThat(first.refCnt()).isZero();
        assertThatThrownBy(() -> body.replay(factory).blockLast()).hasMessageContaining("released");
        assertThatThrownBy(() -> body.read(bytes -> bytes.length())).hasMessageContaining("released");
    }

    @Test
    void anUpstreamWriteStillInFlightKeepsItsBytesAfterTheExchangeLetsGo() {
        RequestBody body = held(List.of(piece("{\"model\":\"gpt-4o\"}")));
        DataBuffer up = body.replay(factory).blockLast();
        body.release();
        assertThat(up.toString(StandardCharsets.UTF_8)).isEqualTo("{\"model\":\"gpt-4o\"}");
        ByteBuf native0 = ((NettyDataBuffer) up).getNativeBuffer();
        DataBufferUtils.release(up);
        assertThat(native0.refCnt()).isZero();
    }

    @Test
    void aBodyOverTheBoundIsRefusedAndAnEmptyOneIsNoBody() {
        MockServerHttpRequest big = MockServerHttpRequest.method(HttpMethod.POST, "/v1/chat/completions")
                .body(Flux.just(piece("0123456789"), piece("0123456789")));
        assertThat(RequestBody.read(big, 15).block()).isEmpty();
        MockServerHttpRequest none = MockServerHttpRequest.method(HttpMethod.POST, "/v1/chat/completions").build();
        RequestBody empty = RequestBody.read(none, 15).block().orElseThrow();
        assertThat(empty.length()).isZero();
        assertThat(empty.replay(factory).collectList().block()).isEmpty();
        boolean noBytes = empty.read(bytes -> bytes.isEmpty());
        assertThat(noBytes).isTrue();
    }
}
