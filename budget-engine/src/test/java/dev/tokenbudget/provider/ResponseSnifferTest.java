package dev.tokenbudget.provider;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class ResponseSnifferTest {

    static List<Payloads.Payload> payloads() {
        return Payloads.all();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("payloads")
    void recognisesEveryFixturesFamilyFormatAndEndpointKind(Payloads.Payload p) {
        ResponseSniffer.Sniffed s = ResponseSniffer.sniff(p.bytes(), null);
        // a saved InvokeModel body of Claude is an Anthropic message, byte for byte: read as one
        Family family = p.expected().has("sniffed_family")
                ? Family.valueOf(p.expected().get("sniffed_family").asText().toUpperCase(java.util.Locale.ROOT))
                : p.family();
        assertThat(s.family()).isEqualTo(family);
        assertThat(s.sse()).isEqualTo(p.name().endsWith(".sse"));
        assertThat(s.eventStream()).isEqualTo(p.name().endsWith(".frames"));
        assertThat(s.endpoint().family()).isEqualTo(family);
        // the sniffed endpoint reads the same usage as the fixture's own
        UsageReader r = UsageReader.of(s.family(), s.endpoint(), s.contentType());
        r.feed(p.bytes(), 0, p.bytes().length);
        assertThat(Payloads.describe(r.finish())).isEqualTo(Payloads.describe(p.expected()));
    }
}
