package dev.tokenbudget.envoy;

import com.google.protobuf.ByteString;
import dev.tokenbudget.gateway.BudgetGateway;
import dev.tokenbudget.gateway.Forward;
import dev.tokenbudget.gateway.Reply;
import io.envoyproxy.envoy.service.ext_proc.v3.BodyMutation;
import io.envoyproxy.envoy.service.ext_proc.v3.BodyResponse;
import io.envoyproxy.envoy.service.ext_proc.v3.CommonResponse;
import io.envoyproxy.envoy.service.ext_proc.v3.HeadersResponse;
import io.envoyproxy.envoy.service.ext_proc.v3.ImmediateResponse;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingResponse;
import io.envoyproxy.envoy.service.ext_proc.v3.TrailersResponse;
import io.envoyproxy.envoy.type.v3.HttpStatus;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The {@link ProcessingResponse}s this processor sends, built from the gateway layer's answers.
 * Nothing here decides anything; it only says it in Envoy's terms.
 */
final class Answers {

    /** Route directive headers a client may not choose for itself (the gateway layer removes them). */
    static final List<String> DIRECTIVE_HEADERS = BudgetGateway.DIRECTIVE_HEADERS;

    private static final CommonResponse CONTINUE = CommonResponse.getDefaultInstance();

    // The answers without content are the same for every stream: protobuf messages are immutable,
    // so each is built once (and its serialized size, memoized in the message, computed once).
    private static final ProcessingResponse CONTINUE_REQUEST_HEADERS = requestHeaders(CONTINUE);
    private static final ProcessingResponse CONTINUE_REQUEST_BODY = requestBody(CONTINUE);
    private static final ProcessingResponse CONTINUE_RESPONSE_BODY = ProcessingResponse.newBuilder()
            .setResponseBody(BodyResponse.newBuilder().setResponse(CONTINUE)).build();
    private static final ProcessingResponse CONTINUE_REQUEST_TRAILERS = ProcessingResponse.newBuilder()
            .setRequestTrailers(TrailersResponse.getDefaultInstance()).build();
    private static final ProcessingResponse CONTINUE_RESPONSE_TRAILERS = ProcessingResponse.newBuilder()
            .setResponseTrailers(TrailersResponse.getDefaultInstance()).build();
    private static final ProcessingResponse CONTINUE_RESPONSE_HEADERS = buildResponseHeaders(Map.of(), false);
    private static final ProcessingResponse ASK_FOR_RESPONSE_BODY = buildResponseHeaders(Map.of(), true);

    private Answers() {
    }

    /** A local reply (401, 413, 429...): Envoy answers the client with it and stops processing. */
    static ProcessingResponse immediate(Reply r) {
        ImmediateResponse.Builder b = ImmediateResponse.newBuilder()
                .setStatus(HttpStatus.newBuilder().setCodeValue(r.status()))
                .setHeaders(HeaderMaps.mutation(r.headers(), List.of()))
                .setBody(ByteString.copyFrom(r.body()))
                // shows as %RESPONSE_CODE_DETAILS% in Envoy's access log; Envoy replaces spaces
                .setDetails("tokenbudget_" + r.status());
        return ProcessingResponse.newBuilder().setImmediateResponse(b).build();
    }

    /**
     * What the request needs before it goes upstream: credential swapped for the virtual key, the
     * route label (and {@code clear_route_cache} so that Envoy's router matches it), a rewritten
     * body with its {@code content-length}, a rewritten path; the credential headers of a signed
     * provider ({@link UpstreamSigning}) are set last, and signature headers the client sent
     * itself are removed.
     * In BUFFERED mode Envoy still holds the request headers when it applies the body answer's
     * header mutation (processor_state.cc ProcessorState::handleHeadersResponse keeps them for the
     * body, ProcessorState::handleBodyResponse applies the mutation), so the signature, computed
     * over the final body, goes upstream with it.
     *
     * @param request the client's request headers (to learn whether it has a content-length, route
     *                labels or signature headers of its own)
     * @param signed  the signed provider's credential headers, empty for none
     */
    static CommonResponse forward(Forward f, EnvoyHeaders request, Map<String, String> signed) {
        // the forward's own lists are used as they are, and copied only when something is added
        Map<String, String> set = f.setHeaders();
        List<String> remove = f.removeHeaders();
        if (!signed.isEmpty()) {
            set = new LinkedHashMap<>(set);
            set.putAll(signed);
            for (String h : UpstreamSigning.SIGNATURE_HEADERS) {
                if (request.has(h) && !remove.contains(h)) {
                    remove = appended(remove, h);
                }
            }
        }
        boolean reroute = f.degraded() || f.path() != null;
        for (String h : DIRECTIVE_HEADERS) {
            if (request.has(h) && !set.containsKey(h)) {
                if (!remove.contains(h)) {
                    remove = appended(remove, h);
                }
                reroute = true; // the route was chosen with the client's label: choose again without it
            }
        }
        // Envoy refuses a BUFFERED body mutation whose content-length does not match; a request
        // without one (chunked) keeps none
        String contentLength = f.body() != null && request.has("content-length")
                ? Integer.toString(f.body().length) : null;
        if (f.path() != null || contentLength != null) {
            set = new LinkedHashMap<>(set);
            if (f.path() != null) {
                set.put(":path", f.path());
            }
            if (contentLength != null) {
                set.put("content-length", contentLength);
            }
        }
        CommonResponse.Builder c = CommonResponse.newBuilder();
        if (f.body() != null) {
            c.setBodyMutation(BodyMutation.newBuilder().setBody(ByteString.copyFrom(f.body())));
        }
        c.setHeaderMutation(HeaderMaps.mutation(set, remove));
        c.setClearRouteCache(reroute);
        return c.build();
    }

    private static List<String> appended(List<String> list, String element) {
        List<String> out = new ArrayList<>(list.size() + 1);
        out.addAll(list);
        out.add(element);
        return out;
    }

    static ProcessingResponse requestHeaders(CommonResponse c) {
        return ProcessingResponse.newBuilder().setRequestHeaders(HeadersResponse.newBuilder().setResponse(c)).build();
    }

    static ProcessingResponse requestBody(CommonResponse c) {
        return ProcessingResponse.newBuilder().setRequestBody(BodyResponse.newBuilder().setResponse(c)).build();
    }

    static ProcessingResponse continueRequestHeaders() {
        return CONTINUE_REQUEST_HEADERS;
    }

    /**
     * The answer to the response headers: the budget headers for the client, and, when the body
     * must be metered and the filter does not stream it already, the mode override asking for it.
     */
    static ProcessingResponse responseHeaders(Map<String, String> clientHeaders, boolean askForBody) {
        if (clientHeaders.isEmpty()) {
            return askForBody ? ASK_FOR_RESPONSE_BODY : CONTINUE_RESPONSE_HEADERS;
        }
        return buildResponseHeaders(clientHeaders, askForBody);
    }

    private static ProcessingResponse buildResponseHeaders(Map<String, String> clientHeaders, boolean askForBody) {
        CommonResponse.Builder c = CommonResponse.newBuilder();
        if (!clientHeaders.isEmpty()) {
            c.setHeaderMutation(HeaderMaps.mutation(clientHeaders, List.of()));
        }
        ProcessingResponse.Builder r = ProcessingResponse.newBuilder()
                .setResponseHeaders(HeadersResponse.newBuilder().setResponse(c));
        if (askForBody) {
            r.setModeOverride(ProcessingModes.METERED_RESPONSE);
        }
        return r.build();
    }

    static ProcessingResponse continueResponseBody() {
        return CONTINUE_RESPONSE_BODY;
    }

    static ProcessingResponse continueRequestBody() {
        return CONTINUE_REQUEST_BODY;
    }

    static ProcessingResponse continueRequestTrailers() {
        return CONTINUE_REQUEST_TRAILERS;
    }

    static ProcessingResponse continueResponseTrailers() {
        return CONTINUE_RESPONSE_TRAILERS;
    }
}
