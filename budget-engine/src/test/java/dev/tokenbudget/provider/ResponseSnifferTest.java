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
        assertThat(s.family()).isEqualTo(p.family());
        assertThat(s.sse()).isEqualTo(p.name().endsWith(".sse"));
        assertThat(s.endpoint().family()).isEqualTo(p.family());
        // the sniffed endpoint reads the same usage as the fixture's own
        UsageReader r = UsageReader.of(s.family(), s.endpoint(), s.contentType());
        r.feed(p.bytes(), 0, p.bytes().length);
        assertThat(Payloads.describe(r.finish())).isEqualTo(Payloads.describe(p.expected()));
    }
}
