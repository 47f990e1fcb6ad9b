package dev.tokenbudget.gateway;

import java.net.URI;
import java.util.Map;

/**
 * Authorises an upstream request from exactly what will be sent, for providers whose credential is
 * not a fixed key: AWS Bedrock's SigV4 signature (over the method, URL, signed headers and body,
 * so it is computed after any rewrite) and Google Vertex AI's OAuth access token (refreshed before
 * it expires). The engine only calls it; implementations with the cloud SDKs live in the
 * {@code cloud-auth} module, so that the engine and hosts that need neither stay free of them.
 * Register one with {@link GatewayOptions.Builder#upstreamSigner}; it replaces the provider's
 * {@code api_key_env}. Implementations are thread-safe and may block briefly (a token refresh).
 */
@FunctionalInterface
public interface UpstreamSigner {

    /**
     * The headers to set on the upstream request.
     *
     * @param method  the HTTP method, upper case
     * @param uri     the full upstream URL: scheme, host, port, raw (encoded) path and query, as sent
     * @param headers headers that will be sent and may be signed (lower-case names), e.g. {@code content-type}
     * @param body    the exact body bytes sent (empty for none)
     * @return headers to set, e.g. {@code authorization}, {@code x-amz-date}, {@code x-amz-security-token}
     * @throws RuntimeException when no credential can be had (the adapter answers 500 and releases the reservation)
     */
    Map<String, String> sign(String method, URI uri, Map<String, String> headers, byte[] body);
}
