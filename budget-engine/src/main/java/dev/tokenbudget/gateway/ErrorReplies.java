package dev.tokenbudget.gateway;

import dev.tokenbudget.provider.Endpoint;
import dev.tokenbudget.provider.Family;
import dev.tokenbudget.provider.Provider;
import dev.tokenbudget.provider.ProviderCodec;

import java.util.LinkedHashMap;
import java.util.Map;

/** The gateway's own answers, shaped like the errors of the provider whose SDK reads them. */
final class ErrorReplies {

    private static final String JSON = "application/json";

    private ErrorReplies() {
    }

    /**
     * The family whose error shape the client's SDK reads: Bedrock's on every Bedrock path (an
     * InvokeModel body is Anthropic's, its errors are Bedrock's), Google's on every Vertex path (the
     * gateway answers as Vertex would, Anthropic's models included), else the endpoint's or the provider's.
     */
    static Family family(Route r) {
        return family(r.provider(), r.endpoint());
    }

    static Family family(Provider p, Endpoint e) {
        if (p == Provider.BEDROCK || p == Provider.VERTEX) {
            return p.family();
        }
        return e.family() != null ? e.family() : p.family();
    }

    static Reply of(Family family, int status, String code, String message) {
        return of(family, status, Map.of(), code, message);
    }

    static Reply of(Family family, int status, Map<String, String> headers, String code, String message) {
        ProviderCodec codec = ProviderCodec.of(family);
        Map<String, String> h = new LinkedHashMap<>(headers);
        h.putAll(codec.errorHeaders(status));
        h.put("content-type", JSON);
        return new Reply(status, h, codec.errorBody(status, code, message));
    }
}
