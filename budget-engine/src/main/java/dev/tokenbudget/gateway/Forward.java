package dev.tokenbudget.gateway;

import dev.tokenbudget.engine.Decision;
import dev.tokenbudget.engine.Ticket;
import dev.tokenbudget.provider.Endpoint;
import dev.tokenbudget.provider.Provider;

import java.util.List;
import java.util.Map;

/**
 * How to send an admitted request upstream and what to tell the client. An adapter, in this order:
 * removes {@link #removeHeaders()} from the upstream request, then sets {@link #setHeaders()};
 * sends {@link #body()} instead of the client's body when it is not null (with a matching
 * {@code content-length}); sends to {@link #path()} when it is not null; adds
 * {@link #responseHeaders()} to the client's response; and feeds the response through
 * {@link #meter()}, calling {@link ResponseMeter#complete()} or {@link ResponseMeter#abort()} once.
 *
 * @param ticket          the reservation (null for an unmetered endpoint)
 * @param provider        the upstream provider
 * @param endpoint        the operation
 * @param model           the model the upstream will serve (after a degrade), or null when unknown
 * @param stream          the client asked for a streamed response
 * @param body            the rewritten body, or null when the client's body goes unchanged
 * @param path            the rewritten path with query (model in the path changed, a {@code key=}
 *                        parameter removed), or null when unchanged
 * @param removeHeaders   upstream request headers to remove (lower case): every header that can carry a virtual
 *                        key, and for a metered request {@code accept-encoding} (usage is read from the
 *                        uncompressed body)
 * @param setHeaders      upstream request headers to set: the provider credential and the route directive
 * @param responseHeaders headers for the client's response (decision, remaining tokens, RateLimit fields)
 * @param meter           reads the response's usage as it passes and settles the ticket
 * @param signer          signs the request as sent (Bedrock SigV4, a Vertex token), or null: see {@link #sign}
 */
public record Forward(Ticket ticket, Provider provider, Endpoint endpoint, String model, boolean stream, byte[] body,
                      String path, List<String> removeHeaders, Map<String, String> setHeaders,
                      Map<String, String> responseHeaders, ResponseMeter meter, UpstreamSigner signer)
        implements Admission {

    public Forward {
        removeHeaders = List.copyOf(removeHeaders);
        setHeaders = HeaderMaps.fixed(setHeaders);
        responseHeaders = HeaderMaps.fixed(responseHeaders);
    }

    /**
     * The credential headers for the request exactly as it goes upstream, to set after
     * {@link #setHeaders()}: none without a signer. An adapter that signs calls it once it knows the
     * upstream URL, with the body it sends ({@link #body()} when not null, else the client's).
     */
    public Map<String, String> sign(String method, java.net.URI upstream, Map<String, String> headers, byte[] sent) {
        return signer == null ? Map.of() : signer.sign(method, upstream, headers, sent == null ? new byte[0] : sent);
    }

    /** The engine's decision (ALLOW or DEGRADE), or null for an unmetered endpoint. */
    public Decision decision() {
        return ticket == null ? null : ticket.decision();
    }

    /** True when the request was degraded (model, output ceiling or prompt changed; a route header set). */
    public boolean degraded() {
        Decision d = decision();
        return d != null && d.outcome() == Decision.Outcome.DEGRADE;
    }
}
