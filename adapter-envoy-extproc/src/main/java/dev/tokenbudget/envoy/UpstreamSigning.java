package dev.tokenbudget.envoy;

import dev.tokenbudget.gateway.Forward;
import dev.tokenbudget.provider.Provider;

import java.net.URI;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Signs an admitted request as Envoy will send it upstream, for providers with an
 * {@code UpstreamSigner} (Bedrock SigV4, Vertex access tokens). The processor never sees the
 * upstream request itself, so it rebuilds it: the method of the client's request; the path Envoy
 * sends (the rewritten {@link Forward#path()} of a degraded request, else the client's
 * {@code :path}); the scheme and authority the operator's route sends to (its host rewrite), which
 * Envoy's router sets after this filter and which the processor is told per provider
 * ({@code --bedrock-upstream}); the client's {@code content-type}; and the body Envoy forwards (the
 * rewritten {@link Forward#body()}, else the client's). A provider without a configured upstream is
 * signed for the client's {@code :authority} over https, which suits a bearer token that covers no
 * URL (Vertex). Thread-safe.
 */
final class UpstreamSigning {

    /** Client headers that would spoil or contradict a SigV4 signature the processor sets. */
    static final List<String> SIGNATURE_HEADERS = List.of("x-amz-date", "x-amz-content-sha256",
            "x-amz-security-token");

    private final Map<Provider, URI> upstreams;

    /**
     * @param upstreams per provider, the origin ({@code https://bedrock-runtime.us-east-1.amazonaws.com})
     *                  Envoy's route sends its requests to; path and query are not allowed
     */
    UpstreamSigning(Map<Provider, URI> upstreams) {
        Map<Provider, URI> m = new EnumMap<>(Provider.class);
        upstreams.forEach((p, u) -> {
            if (u.getScheme() == null || u.getRawAuthority() == null
                    || !(u.getRawPath() == null || u.getRawPath().isEmpty() || u.getRawPath().equals("/"))
                    || u.getRawQuery() != null) {
                throw new IllegalArgumentException("the upstream of " + p.configName()
                        + " must be a scheme and host such as https://bedrock-runtime.us-east-1.amazonaws.com, was " + u);
            }
            m.put(p, u);
        });
        this.upstreams = Map.copyOf(m);
    }

    private static final UpstreamSigning NONE = new UpstreamSigning(Map.of());

    static UpstreamSigning none() {
        return NONE;
    }

    /** The origin requests to {@code p} are signed for, or null (the client's {@code :authority}). */
    URI upstream(Provider p) {
        return upstreams.get(p);
    }

    /**
     * The credential headers for the request Envoy will send upstream; empty when the forward has no signer.
     *
     * @param request    the client's request headers as Envoy sent them to the processor
     * @param clientBody the client's body (empty for none)
     * @throws RuntimeException when the signer has no credentials
     */
    Map<String, String> sign(Forward f, EnvoyHeaders request, byte[] clientBody) {
        if (f.signer() == null) {
            return Map.of();
        }
        URI origin = upstreams.get(f.provider());
        String base = origin != null ? origin.getScheme() + "://" + origin.getRawAuthority()
                : "https://" + request.first(":authority");
        String path = f.path() != null ? f.path() : request.first(":path");
        Map<String, String> signed = new LinkedHashMap<>();
        String contentType = request.first("content-type");
        if (contentType != null) {
            signed.put("content-type", contentType);
        }
        String method = request.first(":method");
        return f.sign(method == null ? "POST" : method, URI.create(base + path), signed,
                f.body() != null ? f.body() : clientBody);
    }
}
