package dev.tokenbudget.reliability;

import dev.tokenbudget.estimate.TokenizerEstimator;
import dev.tokenbudget.fake.FakeProvider;
import dev.tokenbudget.fake.RecordedExchange;
import dev.tokenbudget.fake.ReportedUsage;
import dev.tokenbudget.provider.Endpoint;
import dev.tokenbudget.provider.Family;
import dev.tokenbudget.provider.ProviderCodec;
import dev.tokenbudget.provider.RequestFacts;
import dev.tokenbudget.provider.RequestJson;

import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What the gateway reserves for a chat request (the input estimate it computes, the same way,
 * plus the output ceiling) and what the fake provider reported for each request, found by the
 * {@code req-NNNNNN} marker in its prompt.
 */
final class Reservations {

    private static final Pattern MARKER = Pattern.compile("req-(\\d{6})");

    private Reservations() {
    }

    /** The input tokens the gateway estimates for an OpenAI chat body. */
    static long inputEstimate(String body) {
        RequestJson.Parsed p = RequestJson.parse(body.getBytes(StandardCharsets.UTF_8));
        RequestFacts f = ProviderCodec.of(Family.OPENAI).inspect(Endpoint.CHAT_COMPLETIONS, p.body());
        return TokenizerEstimator.shared().inputTokens(Family.OPENAI, f.model(), f.prompt());
    }

    /** Request id to the usage the provider reported for it. */
    static Map<Integer, ReportedUsage> reportedById(FakeProvider fake) {
        Map<Integer, ReportedUsage> out = new HashMap<>();
        for (RecordedExchange e : fake.exchanges()) {
            Matcher m = MARKER.matcher(e.request().bodyText());
            if (m.find() && e.usage().isPresent()) {
                out.put(Integer.parseInt(m.group(1)), e.usage().get());
            }
        }
        return out;
    }
}
