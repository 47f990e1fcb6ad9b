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
import org.junit.jupiter.api.Test;
import org.springframework.core.io.buffer.DataBuffer;
import org.springframework.core.io.buffer.DefaultDataBufferFactory;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.mock.http.server.reactive.MockServerHttpResponse;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

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
}
