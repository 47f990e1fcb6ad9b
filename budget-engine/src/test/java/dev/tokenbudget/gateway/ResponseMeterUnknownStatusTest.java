package dev.tokenbudget.gateway;

import dev.tokenbudget.provider.Payloads;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static dev.tokenbudget.gateway.GatewayFixture.MAIN;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * An adapter that sees the response body but not its status (APISIX's post-response phase) passes
 * {@link ResponseMeter#STATUS_UNKNOWN}: the body alone then decides.
 */
class ResponseMeterUnknownStatusTest {

    private final GatewayFixture fx = new GatewayFixture();

    private Forward chat() {
        return fx.forward(TestRequest.post("/v1/chat/completions", "Authorization", "Bearer " + MAIN),
                "{\"model\":\"gpt-4.1\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"max_tokens\":100}");
    }

    @Test
    void providerErrorBodyWithoutUsageIsReleasedAsAnUpstreamError() {
        Forward f = chat();
        byte[] err = ("{\"error\":{\"message\":\"Rate limit reached for gpt-4.1\",\"type\":\"tokens\","
                + "\"param\":null,\"code\":\"rate_limit_exceeded\"}}").getBytes(StandardCharsets.UTF_8);

        MeterResult m = GatewayFixture.respond(f, ResponseMeter.STATUS_UNKNOWN, null, err, 7);

        assertThat(m.outcome()).isEqualTo(MeterResult.Outcome.RELEASED);
        assertThat(fx.used("org")).isZero();
    }

    @Test
    void bodyWithUsageIsSettledAsReported() {
        Forward f = chat();

        MeterResult m = GatewayFixture.respond(f, ResponseMeter.STATUS_UNKNOWN, null,
                Payloads.bytes("openai/chat.json"), 64);

        assertThat(m.outcome()).isEqualTo(MeterResult.Outcome.SETTLED);
        assertThat(fx.used("org")).isEqualTo(1218);
    }

    @Test
    void bodyWithNeitherUsageNorErrorIsSettledAtTheReservation() {
        Forward f = chat();

        MeterResult m = GatewayFixture.respond(f, ResponseMeter.STATUS_UNKNOWN, null,
                "{\"choices\":[]}".getBytes(StandardCharsets.UTF_8), 5);

        assertThat(m.outcome()).isEqualTo(MeterResult.Outcome.SETTLED_UNKNOWN);
        assertThat(fx.used("org")).isEqualTo(f.ticket().reservedInput() + f.ticket().reservedOutput());
    }
}
