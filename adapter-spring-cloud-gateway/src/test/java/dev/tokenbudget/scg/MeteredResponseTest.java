package dev.tokenbudget.scg;

import dev.tokenbudget.config.ConfigLoader;
import dev.tokenbudget.engine.BudgetEngine;
import dev.tokenbudget.gateway.Admission;
import dev.tokenbudget.gateway.BudgetGateway;
import dev.tokenbudget.gateway.Forward;
import dev.tokenbudget.gateway.GatewayOptions;
import dev.tokenbudget.gateway.Identified;
import dev.tokenbudget.gateway.TestRequest;
import dev.tokenbudget.store.TokenCounts;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.buffer.UnpooledByteBufAllocator;
import org.junit.jupiter.api.Test;
import org.reactivestreams.Publisher;
import org.springframework.core.io.buffer.DataBuffer;
import org.springframework.core.io.buffer.DataBufferUtils;
import org.springframework.core.io.buffer.DefaultDataBufferFactory;
import org.springframework.core.io.buffer.NettyDataBufferFactory;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.mock.http.server.reactive.MockServerHttpResponse;
import org.reactivestreams.Subscription;
import reactor.core.Disposable;
import reactor.core.publisher.BaseSubscriber;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;
import reactor.test.StepVerifier;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;

/** The response decorator on its own: both write paths meter and settle once, and pass bytes unchanged. */
class MeteredResponseTest {

    private static final String CONFIG = """
            budgets:
              - id: team
                windows:
                  - period: month
                    limits: { total: 1M }
            keys:
              - name: k
                sha256: %s
                budget: team
            """.formatted(dev.tokenbudget.identity.KeyHash.of("vk-unit"));

    private static final String CHAT_STREAM_TAIL = "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1,"
            + "\"model\":\"gpt-4o\",\"choices\":[],\"usage\":{\"prompt_tokens\":11,\"completion_tokens\":7,"
            + "\"total_tokens\":18}}\n\ndata: [DONE]\n\n";

    private final BudgetEngine engine = BudgetEngine.inMemory(ConfigLoader.parse(CONFIG));
    private final BudgetGateway gateway = new BudgetGateway(engine, GatewayOptions.ofDefaults());
    private final EngineCalls inline = new EngineCalls(engine.store());

    private Forward admit(String body) {
        Identified id = (Identified) gateway.identify(
                TestRequest.post("/v1/chat/completions", "Authorization", "Bearer vk-unit"));
        Admission a = gateway.admit(id, body.getBytes(StandardCharsets.UTF_8));
        assertThat(a).isInstanceOf(Forward.class);
        return (Forward) a;
    }

    private static DataBuffer buffer(String s) {
        return DefaultDataBufferFactory.sharedInstance.wrap(s.getBytes(StandardCharsets.UTF_8));
    }

    private TokenCounts used() {
        return engine.status("team").orElseThrow().windows().get(0).used();
    }

    private TokenCounts reserved() {
        return engine.status("team").orElseThrow().windows().get(0).reserved();
    }

    private static MockServerHttpResponse upstreamResponse(MediaType type) {
        MockServerHttpResponse r = new MockServerHttpResponse();
        r.setStatusCode(HttpStatus.OK);
        r.getHeaders().setContentType(type);
        return r;
    }

    @Test
    void writeAndFlushWithMetersEveryFlushedChunkAndSettlesTheReportedUsage() {
        Forward f = admit("{\"model\":\"gpt-4o\",\"stream\":true,\"max_tokens\":50,\"messages\":[{\"role\":\"user\","
                + "\"content\":\"hi\"}]}");
        MockServerHttpResponse mock = upstreamResponse(MediaType.TEXT_EVENT_STREAM);
        MeteredResponse response = new MeteredResponse(mock, f.meter(), f.responseHeaders(), inline);
        String head = "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"gpt-4o\","
                + "\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi\"},\"finish_reason\":null}],\"usage\":null}\n\n";
        // split inside an event, as the network may
        List<String> parts = List.of(head, CHAT_STREAM_TAIL.substring(0, 40), CHAT_STREAM_TAIL.substring(40));

        StepVerifier.create(response.writeAndFlushWith(Flux.fromIterable(parts).map(p -> Mono.just(buffer(p)))))
                .verifyComplete();

        assertThat(mock.getBodyAsString().block()).isEqualTo(String.join("", parts));
        assertThat(mock.getHeaders().getFirst("x-tokenbudget-decision")).isEqualTo("allow");
        assertThat(used()).isEqualTo(new TokenCounts(11, 7, 18));
        assertThat(reserved().total()).isZero();
    }

    @Test
    void writeWithMetersAJsonBodyAndSettlesIt() {
        Forward f = admit("{\"model\":\"gpt-4o\",\"max_tokens\":50,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
        MockServerHttpResponse mock = upstreamResponse(MediaType.APPLICATION_JSON);
        MeteredResponse response = new MeteredResponse(mock, f.meter(), Map.of(), inline);
        String json = "{\"id\":\"c\",\"object\":\"chat.completion\",\"model\":\"gpt-4o\",\"choices\":[],"
                + "\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":3,\"total_tokens\":8}}";

        StepVerifier.create(response.writeWith(Flux.just(buffer(json.substring(0, 30)), buffer(json.substring(30)))))
                .verifyComplete();

        assertThat(mock.getBodyAsString().block()).isEqualTo(json);
        assertThat(used()).isEqualTo(new TokenCounts(5, 3, 8));
    }

    @Test
    void aCancelledWriteSettlesConservativelyAndOnlyOnce() {
        Forward f = admit("{\"model\":\"gpt-4o\",\"stream\":true,\"max_tokens\":50,\"messages\":[{\"role\":\"user\","
                + "\"content\":\"hi\"}]}");
        MockServerHttpResponse mock = upstreamResponse(MediaType.TEXT_EVENT_STREAM);
        MeteredResponse response = new MeteredResponse(mock, f.meter(), Map.of(), inline);

        StepVerifier.create(response.writeAndFlushWith(Flux.<Mono<DataBuffer>>never()))
                .thenCancel().verify();
        response.finishIfOpen();

        assertThat(reserved().total()).isZero();
        // no usage seen: charged at the reservation, which covers the output ceiling
        assertThat(used().output()).isEqualTo(50);
    }

    @Test
    void anExchangeThatNeverReachedTheResponseReleasesTheReservation() {
        Forward f = admit("{\"model\":\"gpt-4o\",\"max_tokens\":50,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
        MeteredResponse response = new MeteredResponse(new MockServerHttpResponse(), f.meter(), Map.of(), inline);

        response.finishIfOpen();
        response.finishIfOpen();

        assertThat(reserved().total()).isZero();
        assertThat(used().total()).isZero();
    }

    private static DataBuffer direct(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        DataBuffer d = new DefaultDataBufferFactory(true).allocateBuffer(b.length);
        d.write(b);
        return d;
    }

    @Test
    void offHeapChunksLargerThanTheCopyBufferAndInterleavedResponsesMeterExactly() {
        // direct buffers are copied through one array per thread: a chunk larger than it is shown
        // in pieces, and two responses metered in turn on one thread must not see each other's bytes
        String big = "x".repeat(20_000);
        String jsonA = "{\"id\":\"a\",\"object\":\"chat.completion\",\"model\":\"gpt-4o\",\"choices\":[{\"index\":0,"
                + "\"message\":{\"role\":\"assistant\",\"content\":\"" + big + "\"}}],"
                + "\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":3,\"total_tokens\":8}}";
        String jsonB = "{\"id\":\"b\",\"object\":\"chat.completion\",\"model\":\"gpt-4o\",\"choices\":[],"
                + "\"usage\":{\"prompt_tokens\":2,\"completion_tokens\":1,\"total_tokens\":3}}";
        String body = "{\"model\":\"gpt-4o\",\"max_tokens\":50,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
        Forward fa = admit(body);
        Forward fb = admit(body);
        MockServerHttpResponse mockA = upstreamResponse(MediaType.APPLICATION_JSON);
        MockServerHttpResponse mockB = upstreamResponse(MediaType.APPLICATION_JSON);
        MeteredResponse a = new MeteredResponse(mockA, fa.meter(), Map.of(), inline);
        MeteredResponse b = new MeteredResponse(mockB, fb.meter(), Map.of(), inline);
        int cut = 10_017; // inside A's long string

        StepVerifier.create(a.writeWith(Flux.concat(Mono.fromSupplier(() -> direct(jsonA.substring(0, cut))),
                        Mono.defer(() -> b.writeWith(Flux.just(direct(jsonB)))).then(Mono.empty()),
                        Mono.fromSupplier(() -> direct(jsonA.substring(cut))))))
                .verifyComplete();

        assertThat(mockA.getBodyAsString().block()).isEqualTo(jsonA);
        assertThat(mockB.getBodyAsString().block()).isEqualTo(jsonB);
        assertThat(used()).isEqualTo(new TokenCounts(7, 4, 11));
        assertThat(reserved().total()).isZero();
    }

    private static final String STREAM_REQUEST = "{\"model\":\"gpt-4o\",\"stream\":true,\"max_tokens\":50,"
            + "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
    private static final String JSON_REQUEST = "{\"model\":\"gpt-4o\",\"max_tokens\":50,"
            + "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";

    /** A request admitted with {@code body}, its response decorated over {@code mock}. */
    private MeteredResponse metered(MockServerHttpResponse mock, String body) {
        return new MeteredResponse(mock, admit(body).meter(), Map.of(), inline);
    }

    private static DataBuffer netty(ByteBuf b) {
        return new NettyDataBufferFactory(UnpooledByteBufAllocator.DEFAULT).wrap(b);
    }

    /** {@code s} in a Netty buffer of each kind the upstream client may hand over, its reader index not at 0. */
    private static DataBuffer nettyKind(String s, int kind) {
        byte[] b = ("pad" + s).getBytes(StandardCharsets.UTF_8);
        ByteBuf buf = switch (kind % 4) {
            case 0 -> Unpooled.directBuffer(b.length).writeBytes(b);
            case 1 -> Unpooled.buffer(b.length).writeBytes(b);
            case 2 -> Unpooled.wrappedBuffer(prefixed(b), 5, b.length); // heap, its array offset not 0
            default -> Unpooled.wrappedBuffer(Unpooled.directBuffer().writeBytes(b, 0, b.length / 2),
                    Unpooled.buffer().writeBytes(b, b.length / 2, b.length - b.length / 2)); // composite
        };
        buf.skipBytes(3);
        return netty(buf);
    }

    private static byte[] prefixed(byte[] b) {
        byte[] p = new byte[b.length + 5];
        System.arraycopy(b, 0, p, 5, b.length);
        return p;
    }

    @Test
    void flushedNettyChunksOfEveryShapeMeterExactlyWithTheUsageSplitAcrossThem() {
        // Spring Cloud Gateway flushes each upstream buffer as Flux.just(buffer); chunks of several
        // buffers go through an operator instead; the usage event is cut at every byte in turn
        String stream = "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"gpt-4o\","
                + "\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi\"},\"finish_reason\":null}],\"usage\":null}\n\n"
                + CHAT_STREAM_TAIL;
        int usageAt = stream.indexOf("\"usage\":{");
        long settled = 0;
        for (int cut = usageAt - 3; cut < usageAt + 40; cut++) {
            MockServerHttpResponse mock = upstreamResponse(MediaType.TEXT_EVENT_STREAM);
            MeteredResponse response = metered(mock, STREAM_REQUEST);
            int k = cut;
            String a = stream.substring(0, 30);
            String b = stream.substring(30, k);
            String c = stream.substring(k);
            Flux<Publisher<DataBuffer>> chunks = Flux.just(
                    Flux.just(nettyKind(a, k)),
                    Flux.just(nettyKind(b.substring(0, b.length() / 2), k + 1), nettyKind(b.substring(b.length() / 2), k + 2)),
                    Mono.just(nettyKind(c, k + 3)));

            StepVerifier.create(response.writeAndFlushWith(chunks)).verifyComplete();

            assertThat(mock.getBodyAsString().block()).isEqualTo(stream);
            settled++;
            assertThat(used()).isEqualTo(new TokenCounts(11 * settled, 7 * settled, 18 * settled));
            assertThat(reserved().total()).isZero();
        }
    }

    @Test
    void anOffHeapNettyChunkLargerThanTheCopyBufferMetersExactly() {
        String json = "{\"id\":\"a\",\"object\":\"chat.completion\",\"model\":\"gpt-4o\",\"choices\":[{\"index\":0,"
                + "\"message\":{\"role\":\"assistant\",\"content\":\"" + "y".repeat(30_000) + "\"}}],"
                + "\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":3,\"total_tokens\":8}}";
        MockServerHttpResponse mock = upstreamResponse(MediaType.APPLICATION_JSON);
        MeteredResponse response = metered(mock, JSON_REQUEST);

        StepVerifier.create(response.writeWith(Flux.just(nettyKind(json, 0)))).verifyComplete();

        assertThat(mock.getBodyAsString().block()).isEqualTo(json);
        assertThat(used()).isEqualTo(new TokenCounts(5, 3, 8));
    }

    @Test
    void anErrorChunkFailsTheWriteAndSettlesConservatively() {
        MockServerHttpResponse mock = upstreamResponse(MediaType.TEXT_EVENT_STREAM);
        MeteredResponse response = metered(mock, STREAM_REQUEST);
        Flux<Publisher<DataBuffer>> chunks = Flux.just(Mono.empty(), Mono.error(new IllegalStateException("upstream cut")));

        StepVerifier.create(response.writeAndFlushWith(chunks)).verifyErrorMessage("upstream cut");

        assertThat(reserved().total()).isZero();
        assertThat(used().output()).isEqualTo(50); // nothing seen: charged at the reservation
    }

    private static final String EVENT = "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1,"
            + "\"model\":\"gpt-4o\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi\"}}],\"usage\":null}\n\n";

    /**
     * A writer that takes one buffer, releases it, and waits for a client that has gone away. Its
     * {@code writeAndFlushWith} takes the chunks ahead as Reactor Netty's {@code sendGroups} does.
     */
    private static final class TakesOne extends MockServerHttpResponse {
        @Override
        protected Mono<Void> writeWithInternal(Publisher<? extends DataBuffer> body) {
            return Mono.create(never -> body.subscribe(new BaseSubscriber<DataBuffer>() {
                @Override
                protected void hookOnSubscribe(Subscription s) {
                    request(1);
                }

                @Override
                protected void hookOnNext(DataBuffer b) {
                    DataBufferUtils.release(b);
                }
            }));
        }

        @Override
        protected Mono<Void> writeAndFlushWithInternal(Publisher<? extends Publisher<? extends DataBuffer>> body) {
            return writeWithInternal(Flux.from(body).concatMap(chunk -> chunk, 32));
        }
    }

    @Test
    void chunksStillQueuedWhenTheClientGoesAwayAreReleased() {
        // the upstream's buffers are pooled off-heap memory: each chunk that a cancel leaves queued
        // must be released, or a gateway under client cancels runs out of direct memory
        MeteredResponse response = metered(new TakesOne(), STREAM_REQUEST);
        List<ByteBuf> created = new ArrayList<>();
        Flux<Publisher<DataBuffer>> chunks = Flux.range(0, 64).<Publisher<DataBuffer>>map(i -> {
            ByteBuf b = Unpooled.directBuffer().writeBytes(EVENT.getBytes(StandardCharsets.UTF_8));
            created.add(b);
            return Flux.just(netty(b));
        }).hide(); // pushed as the upstream connection pushes them, not pulled one by one

        Disposable write = response.writeAndFlushWith(chunks).subscribe();
        write.dispose(); // the client goes away

        assertThat(created).hasSizeGreaterThan(1); // more were taken ahead than the writer wrote
        assertThat(created).allSatisfy(b -> assertThat(b.refCnt()).as("a queued chunk's buffer").isZero());
    }

    /** A writer that asks for one buffer at a time from a thread of its own, as the client's event loop does. */
    private static final class OneAtATime extends MockServerHttpResponse {
        final List<String> received = new CopyOnWriteArrayList<>();
        private final Scheduler clientLoop;

        OneAtATime(Scheduler clientLoop) {
            this.clientLoop = clientLoop;
        }

        @Override
        protected Mono<Void> writeWithInternal(Publisher<? extends DataBuffer> body) {
            return Mono.create(done -> body.subscribe(new BaseSubscriber<DataBuffer>() {
                @Override
                protected void hookOnSubscribe(Subscription s) {
                    clientLoop.schedule(() -> request(1));
                }

                @Override
                protected void hookOnNext(DataBuffer b) {
                    received.add(b.toString(StandardCharsets.UTF_8));
                    DataBufferUtils.release(b);
                    clientLoop.schedule(() -> request(1));
                }

                @Override
                protected void hookOnComplete() {
                    done.success();
                }

                @Override
                protected void hookOnError(Throwable t) {
                    done.error(t);
                }
            }));
        }
    }

    @Test
    void aStreamWhoseChunksArriveOnOneThreadWhileTheWriterAsksFromAnotherArrivesWholeAndInOrder() {
        // the upstream connection's event loop emits chunks while the client connection's asks
        // for more: every request must reach the chunk that is current, or the stream stalls
        Scheduler upstream = Schedulers.newSingle("upstream-loop");
        Scheduler client = Schedulers.newSingle("client-loop");
        try {
            for (int stream = 0; stream < 200; stream++) {
                OneAtATime writer = new OneAtATime(client);
                MeteredResponse response = metered(writer, STREAM_REQUEST);
                Flux<Publisher<DataBuffer>> chunks = Flux.range(0, 64)
                        .<Publisher<DataBuffer>>map(i -> Flux.just(buffer(i + ":" + EVENT)))
                        .publishOn(upstream, 1);

                StepVerifier.create(response.writeAndFlushWith(chunks)).expectComplete().verify(Duration.ofSeconds(30));

                assertThat(writer.received).hasSize(64);
                for (int i = 0; i < 64; i++) {
                    assertThat(writer.received.get(i)).startsWith(i + ":");
                }
            }
        } finally {
            upstream.dispose();
            client.dispose();
        }
    }
}
