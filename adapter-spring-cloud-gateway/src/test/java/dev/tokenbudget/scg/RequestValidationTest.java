package dev.tokenbudget.scg;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tokenbudget.fake.FakeProvider;
import dev.tokenbudget.fake.RecordedExchange;
import org.junit.jupiter.api.Test;
import org.springframework.core.io.buffer.DataBuffer;
import org.springframework.core.io.buffer.DefaultDataBufferFactory;
import org.springframework.http.HttpHeaders;
import org.springframework.http.MediaType;
import org.springframework.test.web.reactive.server.EntityExchangeResult;
import reactor.core.publisher.Flux;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class RequestValidationTest extends GatewayTestBase {

    @Test
    void anUnknownKeyGets401InTheOpenAiShape() {
        EntityExchangeResult<byte[]> r = client().post().uri("/v1/chat/completions")
                .header(HttpHeaders.AUTHORIZATION, "Bearer vk-it-nobody")
                .contentType(MediaType.APPLICATION_JSON).bodyValue(chat("gpt-4o", 10, false))
                .exchange().expectBody().returnResult();

        assertThat(r.getStatus().value()).isEqualTo(401);
        JsonNode error = json(r.getResponseBodyContent()).get("error");
        assertThat(error.get("message").asText()).contains("invalid API key");
        assertThat(OPENAI.exchanges()).isEmpty();
    }

    @Test
    void anUnknownKeyOnTheAnthropicRouteGets401InTheAnthropicShape() {
        EntityExchangeResult<byte[]> r = client().post().uri("/v1/messages")
                .header("x-api-key", "vk-it-nobody").header("anthropic-version", "2023-06-01")
                .contentType(MediaType.APPLICATION_JSON).bodyValue(messages("claude-sonnet-4-5", 10, false))
                .exchange().expectBody().returnResult();

        assertThat(r.getStatus().value()).isEqualTo(401);
        JsonNode body = json(r.getResponseBodyContent());
        assertThat(body.get("type").asText()).isEqualTo("error");
        assertThat(body.get("error").get("type").asText()).isNotBlank();
        assertThat(ANTHROPIC.exchanges()).isEmpty();
    }

    @Test
    void aRequestWithoutAnyKeyGets401() {
        client().post().uri("/v1/chat/completions").contentType(MediaType.APPLICATION_JSON)
                .bodyValue(chat("gpt-4o", 10, false))
                .exchange().expectStatus().isUnauthorized();

        assertThat(OPENAI.exchanges()).isEmpty();
    }

    @Test
    void anOversizedBodyGets413WhetherItsLengthIsDeclaredOrNot() {
        String big = "{\"model\":\"gpt-4o\",\"messages\":[{\"role\":\"user\",\"content\":\""
                + "x".repeat(100_000) + "\"}]}";
        byte[] bytes = big.getBytes(StandardCharsets.UTF_8);

        EntityExchangeResult<byte[]> declared = client().post().uri("/v1/chat/completions")
                .header(HttpHeaders.AUTHORIZATION, "Bearer vk-it-team")
                .contentType(MediaType.APPLICATION_JSON).bodyValue(big)
                .exchange().expectBody().returnResult();
        Flux<DataBuffer> chunks = Flux.range(0, 10).map(i -> DefaultDataBufferFactory.sharedInstance
                .wrap(java.util.Arrays.copyOfRange(bytes, i * bytes.length / 10, (i + 1) * bytes.length / 10)));
        EntityExchangeResult<byte[]> chunked = client().post().uri("/v1/chat/completions")
                .header(HttpHeaders.AUTHORIZATION, "Bearer vk-it-team")
                .contentType(MediaType.APPLICATION_JSON).body(chunks, DataBuffer.class)
                .exchange().expectBody().returnResult();

        assertThat(declared.getStatus().value()).isEqualTo(413);
        assertThat(chunked.getRequestHeaders().getContentLength()).isEqualTo(-1);
        assertThat(chunked.getStatus().value()).isEqualTo(413);
        assertThat(json(chunked.getResponseBodyContent()).get("error").get("message").asText())
                .contains(String.valueOf(64 * 1024));
        assertThat(OPENAI.exchanges()).isEmpty();
    }

    @Test
    void aMalformedBodyGets400AndReservesNothing() {
        long before = used("key:errors").total() + reserved("key:errors").total();

        EntityExchangeResult<byte[]> r = client().post().uri("/v1/chat/completions")
                .header(HttpHeaders.AUTHORIZATION, "Bearer vk-it-errors")
                .contentType(MediaType.APPLICATION_JSON).bodyValue("{\"model\": \"gpt-4o\", \"messages\": [")
                .exchange().expectBody().returnResult();

        assertThat(r.getStatus().value()).isEqualTo(400);
        assertThat(json(r.getResponseBodyContent()).get("error").get("message").asText()).isNotBlank();
        assertThat(OPENAI.exchanges()).isEmpty();
        assertThat(used("key:errors").total() + reserved("key:errors").total()).isEqualTo(before);
    }

    @Test
    void theVirtualKeyNeverReachesTheUpstreamWhichGetsItsOwnCredential() {
        client().post().uri("/v1/chat/completions").header(HttpHeaders.AUTHORIZATION, "Bearer vk-it-team")
                .header("x-api-key", "vk-it-team")
                .contentType(MediaType.APPLICATION_JSON).bodyValue(chat("gpt-4o", 10, false))
                .exchange().expectStatus().isOk();
        client().post().uri("/v1/messages").header("x-api-key", "vk-it-anthropic")
                .header("anthropic-version", "2023-06-01")
                .contentType(MediaType.APPLICATION_JSON).bodyValue(messages("claude-sonnet-4-5", 10, false))
                .exchange().expectStatus().isOk();

        RecordedExchange openai = OPENAI.lastExchange();
        RecordedExchange anthropic = ANTHROPIC.lastExchange();
        // the fakes demand their upstream keys: a 200 proves the credential was set
        assertThat(openai.status()).isEqualTo(200);
        assertThat(openai.request().header("authorization")).isEqualTo("Bearer sk-it-openai");
        assertThat(openai.request().header("x-api-key")).isNull();
        assertThat(anthropic.request().header("x-api-key")).isEqualTo("sk-it-anthropic");
        assertThat(anthropic.request().header("anthropic-version")).isEqualTo("2023-06-01");
        for (FakeProvider f : List.of(OPENAI, ANTHROPIC)) {
            for (RecordedExchange e : f.exchanges()) {
                for (Map.Entry<String, List<String>> h : e.request().headers().entrySet()) {
                    assertThat(h.getValue()).as("header %s", h.getKey()).noneMatch(v -> v.contains("vk-it-"));
                }
                assertThat(e.request().bodyText()).doesNotContain("vk-it-");
            }
        }
    }
}
