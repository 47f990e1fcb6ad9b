package dev.tokenbudget.envoy;

import com.google.protobuf.util.Durations;
import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ExternalProcessor;
import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ExternalProcessor.RouteCacheAction;
import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ProcessingMode;
import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ProcessingMode.BodySendMode;
import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ProcessingMode.HeaderSendMode;
import io.envoyproxy.envoy.service.ext_proc.v3.BodyResponse;
import io.envoyproxy.envoy.service.ext_proc.v3.CommonResponse;
import io.envoyproxy.envoy.service.ext_proc.v3.HeadersResponse;
import io.envoyproxy.envoy.service.ext_proc.v3.ImmediateResponse;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingRequest;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingResponse;
import io.envoyproxy.envoy.service.ext_proc.v3.ProtocolConfiguration;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * One HTTP stream's ext_proc filter instance, on Envoy's side ({@link EnvoyRules} has the filter's
 * config and the sources read). {@link #sent} checks that a message a test sends as Envoy is one
 * Envoy would send now and starts its timer; {@link #answered} applies an answer as
 * ext_proc.cc Filter::onReceiveMessage does, or throws {@link EnvoyRules.Refused}.
 */
final class EnvoyFilter {

    /** ProcessorState::CallbackState. */
    private enum Waiting { IDLE, HEADERS, BUFFERED_BODY, STREAMED_BODY, TRAILERS }

    private final EnvoyRules rules;
    private final ExternalProcessor config;
    private final LongSupplier nanos;

    /** One direction of one stream: DecodingProcessorState or EncodingProcessorState. */
    private final class Side {
        final String name;
        boolean sendHeaders;
        boolean sendTrailers;
        BodySendMode body;
        Waiting waiting = Waiting.IDLE;
        Map<String, List<String>> headers;
        boolean headersSeen;
        /** The headers went on (upstream or to the client): a later header mutation has nothing to change. */
        boolean headersReleased;
        boolean noBody;
        int queued;
        long deadline = -1;
        boolean timerRestarted;

        Side(String name) {
            this.name = name;
        }

        /** ProcessorState::shouldRemoveContentLength. */
        boolean removesContentLength() {
            return body == BodySendMode.STREAMED || body == BodySendMode.FULL_DUPLEX_STREAMED
                    || body == BodySendMode.BUFFERED_PARTIAL || body == BodySendMode.BUFFERED && !sendHeaders;
        }

        /** ProcessorState::onStartProcessorCall: the timer runs except in FULL_DUPLEX_STREAMED. */
        void start(Waiting w) {
            waiting = w;
            timerRestarted = false;
            deadline = body == BodySendMode.FULL_DUPLEX_STREAMED ? -1
                    : nanos.getAsLong() + rules.messageTimeout().toNanos();
        }

        /** ProcessorState::onFinishProcessorCall. */
        void finish(Waiting next) {
            waiting = next;
            deadline = next == Waiting.IDLE ? -1 : deadline;
        }
    }

    private final Side decoding = new Side("request");
    private final Side encoding = new Side("response");
    private boolean first = true;
    /** The request body as Envoy holds it: what the client sent, then any BUFFERED body mutation. */
    private java.io.ByteArrayOutputStream requestBody = new java.io.ByteArrayOutputStream();
    private boolean complete;
    private boolean routeCleared;
    private int localReply = -1;

    EnvoyFilter(EnvoyRules rules) {
        this.rules = rules;
        this.config = rules.config;
        this.nanos = rules.nanos;
        setModes(config.getProcessingMode());
    }

    /** What this filter announces on the stream's first message. */
    ProtocolConfiguration announced() {
        return rules.announced();
    }

    /** The request headers as Envoy forwards them upstream, after every applied mutation. */
    Map<String, List<String>> requestHeaders() {
        return decoding.headers;
    }

    Map<String, List<String>> responseHeaders() {
        return encoding.headers;
    }

    /** The request body Envoy forwards upstream, after a BUFFERED body mutation. */
    byte[] upstreamBody() {
        return requestBody.toByteArray();
    }

    /**
     * The request Envoy's router sends upstream: the headers after every applied mutation, with
     * {@code :authority} as the route's {@code host_rewrite_literal} sets it (router config_impl.cc
     * RouteEntryImplBase::finalizeRequestHeaders, after the filter chain), and the body after a
     * BUFFERED body mutation.
     */
    UpstreamRequest upstreamRequest(String hostRewrite) {
        Map<String, List<String>> h = new LinkedHashMap<>();
        decoding.headers.forEach((k, v) -> h.put(k, List.copyOf(v)));
        h.put(":authority", List.of(hostRewrite));
        return new UpstreamRequest(HeaderMaps.first(h, ":method"), HeaderMaps.first(h, ":path"), h, upstreamBody());
    }

    /** A request as it leaves Envoy for the upstream. */
    record UpstreamRequest(String method, String path, Map<String, List<String>> headers, byte[] body) {
    }

    boolean routeCleared() {
        return routeCleared;
    }

    /** The status of the processor's immediate response, or -1. */
    int localReply() {
        return localReply;
    }

    BodySendMode responseBodyMode() {
        return encoding.body;
    }

    /** DecodingProcessorState / EncodingProcessorState::setProcessingModeInternal. */
    private void setModes(ProcessingMode m) {
        decoding.sendHeaders = m.getRequestHeaderMode() != HeaderSendMode.SKIP;
        decoding.sendTrailers = m.getRequestTrailerMode() == HeaderSendMode.SEND;
        decoding.body = m.getRequestBodyMode();
        encoding.sendHeaders = m.getResponseHeaderMode() != HeaderSendMode.SKIP;
        encoding.sendTrailers = m.getResponseTrailerMode() == HeaderSendMode.SEND;
        encoding.body = m.getResponseBodyMode();
    }

    /** A message the test sends as Envoy: checks Envoy would send it now, and starts its timer. */
    void sent(ProcessingRequest r) {
        if (complete) {
            throw new EnvoyRules.Refused(
                    "sends nothing more once processing is complete", "ext_proc.cc Filter::openStream");
        }
        if (r.getObservabilityMode() != config.getObservabilityMode()) {
            throw new EnvoyRules.Refused(
                    "observability_mode is the filter's, on every message", "ext_proc.cc buildHeaderRequest");
        }
        if (first && r.hasProtocolConfig() && !config.getObservabilityMode()
                && !r.getProtocolConfig().equals(announced())) {
            throw new EnvoyRules.Refused("announces " + announced() + ", not " + r.getProtocolConfig(),
                    "ext_proc.cc Filter::encodeProtocolConfig");
        }
        if (!first && r.hasProtocolConfig()) {
            throw new EnvoyRules.Refused(
                    "protocol_config only on the first message", "ext_proc.cc Filter::encodeProtocolConfig");
        }
        first = false;
        boolean observed = config.getObservabilityMode();
        switch (r.getRequestCase()) {
            case REQUEST_HEADERS -> {
                expectSend(decoding.sendHeaders && !decoding.headersSeen, "request_headers");
                decoding.headersSeen = true;
                decoding.headers = HeaderMaps.read(r.getRequestHeaders().getHeaders());
                decoding.noBody = r.getRequestHeaders().getEndOfStream();
                startUnlessObserved(decoding, Waiting.HEADERS, observed);
            }
            case REQUEST_BODY -> {
                // Filter::onData: the body goes once the headers are answered (no send_body_without_waiting)
                expectSend(decoding.body != BodySendMode.NONE && !decoding.noBody
                        && (observed || decoding.waiting != Waiting.HEADERS), "request_body");
                requestBody.writeBytes(r.getRequestBody().getBody().toByteArray());
                body(decoding, observed);
            }
            case REQUEST_TRAILERS -> {
                expectSend(decoding.sendTrailers || observed, "request_trailers");
                startUnlessObserved(decoding, Waiting.TRAILERS, observed);
            }
            case RESPONSE_HEADERS -> {
                // Filter::encodeHeaders: also for Envoy's own local reply while the request body is awaited
                expectSend(encoding.sendHeaders && !encoding.headersSeen, "response_headers");
                encoding.headersSeen = true;
                encoding.headers = HeaderMaps.read(r.getResponseHeaders().getHeaders());
                encoding.noBody = r.getResponseHeaders().getEndOfStream();
                startUnlessObserved(encoding, Waiting.HEADERS, observed);
            }
            case RESPONSE_BODY -> {
                expectSend(encoding.body != BodySendMode.NONE && !encoding.noBody
                        && (observed || encoding.waiting != Waiting.HEADERS), "response_body");
                body(encoding, observed);
            }
            case RESPONSE_TRAILERS -> {
                expectSend(encoding.sendTrailers || observed, "response_trailers");
                startUnlessObserved(encoding, Waiting.TRAILERS, observed);
            }
            case REQUEST_NOT_SET -> throw new EnvoyRules.Refused("never sends an empty ProcessingRequest",
                    "ext_proc.cc Filter::sendRequest");
        }
    }

    private void body(Side s, boolean observed) {
        if (observed) {
            return;
        }
        if (s.body == BodySendMode.BUFFERED) {
            s.start(Waiting.BUFFERED_BODY);
        } else {
            s.queued++;
            if (s.waiting != Waiting.STREAMED_BODY) {
                s.start(Waiting.STREAMED_BODY);
            }
        }
    }

    private void startUnlessObserved(Side s, Waiting w, boolean observed) {
        if (!observed) {
            s.start(w);
        }
    }

    private void expectSend(boolean ok, String what) {
        if (!ok) {
            throw new EnvoyRules.Refused("would not send " + what + " now (request body mode " + decoding.body
                    + ", response body mode " + encoding.body + ", waiting for " + decoding.waiting + " / "
                    + encoding.waiting + ")", "ext_proc.cc Filter::onHeaders / onData / onTrailers");
        }
    }

    /** An answer from the processor arriving now. */
    EnvoyRules.Outcome answered(ProcessingResponse a) {
        return answered(a, nanos.getAsLong());
    }

    /** An answer from the processor that arrived at {@code at}, applied as Filter::onReceiveMessage does. */
    EnvoyRules.Outcome answered(ProcessingResponse a, long at) {
        if (config.getObservabilityMode()) {
            return EnvoyRules.Outcome.IGNORED; // Filter::onReceiveMessage: answers are ignored in observability mode
        }
        if (complete) {
            return EnvoyRules.Outcome.IGNORED; // "Ignoring stream message received after processing complete"
        }
        checkDeadline(at);
        if (a.hasOverrideMessageTimeout()) {
            return overrideTimeout(a, at);
        }
        if (a.hasModeOverride()) {
            modeOverride(a.getModeOverride());
        }
        switch (a.getResponseCase()) {
            case REQUEST_HEADERS -> headers(decoding, a.getRequestHeaders());
            case RESPONSE_HEADERS -> headers(encoding, a.getResponseHeaders());
            case REQUEST_BODY -> body(decoding, a.getRequestBody());
            case RESPONSE_BODY -> body(encoding, a.getResponseBody());
            case REQUEST_TRAILERS -> trailers(decoding);
            case RESPONSE_TRAILERS -> trailers(encoding);
            case IMMEDIATE_RESPONSE -> immediate(a.getImmediateResponse());
            case RESPONSE_NOT_SET -> throw spurious("an answer with no response set");
        }
        return EnvoyRules.Outcome.APPLIED;
    }

    /** ProcessorState message timer: Filter::onMessageTimeout answers 504 once it fires. */
    private void checkDeadline(long now) {
        for (Side s : List.of(decoding, encoding)) {
            if (s.deadline >= 0 && now > s.deadline) {
                throw new EnvoyRules.Refused("the " + s.name + " " + s.waiting + " message timer fired "
                        + Duration.ofNanos(now - s.deadline) + " before the answer: 504 "
                        + "ext_proc_error_per-message_timeout_exceeded, and the stream is closed",
                        "ext_proc.cc Filter::onMessageTimeout");
            }
        }
    }

    /** Filter::onNewTimeout and ProcessorState::restartMessageTimer. */
    private EnvoyRules.Outcome overrideTimeout(ProcessingResponse a, long at) {
        if (a.getResponseCase() != ProcessingResponse.ResponseCase.RESPONSE_NOT_SET || a.hasModeOverride()) {
            throw new EnvoyRules.Refused("reads only override_message_timeout from this message; its "
                    + a.getResponseCase() + " answer is dropped", "ext_proc.cc Filter::onReceiveMessage");
        }
        long ms = Durations.toMillis(a.getOverrideMessageTimeout());
        if (ms < 1 || ms > rules.maxMessageTimeout().toMillis()) {
            throw new EnvoyRules.Refused(
                    "ignores override_message_timeout " + ms + " ms: outside [1 ms, max_message_timeout "
                    + rules.maxMessageTimeout().toMillis() + " ms]", "ext_proc.cc Filter::onNewTimeout");
        }
        for (Side s : List.of(decoding, encoding)) {
            if (s.deadline >= 0 && !s.timerRestarted) {
                s.deadline = at + Duration.ofMillis(ms).toNanos();
                s.timerRestarted = true;
                return EnvoyRules.Outcome.TIMER_RESTARTED;
            }
        }
        throw new EnvoyRules.Refused(
                "ignores override_message_timeout: no timer running, or already restarted once for "
                + "this message", "processor_state.cc ProcessorState::restartMessageTimer");
    }

    /** Filter::onReceiveMessage's mode_override block, and effectiveModeOverride. */
    private void modeOverride(ProcessingMode wanted) {
        ProcessingMode cfg = config.getProcessingMode();
        boolean headerState = decoding.waiting == Waiting.HEADERS || encoding.waiting == Waiting.HEADERS;
        boolean duplex = cfg.getRequestBodyMode() == BodySendMode.FULL_DUPLEX_STREAMED
                || cfg.getResponseBodyMode() == BodySendMode.FULL_DUPLEX_STREAMED;
        if (!config.getAllowModeOverride() || config.getSendBodyWithoutWaitingForHeaderResponse() || duplex
                || !headerState) {
            throw new EnvoyRules.Refused("ignores mode_override (allow_mode_override " + config.getAllowModeOverride()
                    + ", in a headers answer " + headerState + ", FULL_DUPLEX_STREAMED configured " + duplex + ")",
                    "ext_proc.cc Filter::onReceiveMessage");
        }
        ProcessingMode.Builder eff = cfg.toBuilder();
        if (wanted.getRequestHeaderMode() != HeaderSendMode.DEFAULT) {
            eff.setRequestHeaderMode(wanted.getRequestHeaderMode());
        }
        if (wanted.getResponseHeaderMode() != HeaderSendMode.DEFAULT) {
            eff.setResponseHeaderMode(wanted.getResponseHeaderMode());
        }
        if (wanted.getRequestTrailerMode() != HeaderSendMode.DEFAULT) {
            eff.setRequestTrailerMode(wanted.getRequestTrailerMode());
        }
        if (wanted.getResponseTrailerMode() != HeaderSendMode.DEFAULT) {
            eff.setResponseTrailerMode(wanted.getResponseTrailerMode());
        }
        eff.setRequestBodyMode(wanted.getRequestBodyMode()).setResponseBodyMode(wanted.getResponseBodyMode());
        ProcessingMode m = eff.build();
        boolean allowed = config.getAllowedOverrideModesList().isEmpty()
                || config.getAllowedOverrideModesList().stream().anyMatch(o ->
                // request_header_mode is not compared: it no longer applies
                m.getRequestBodyMode() == o.getRequestBodyMode()
                        && m.getRequestTrailerMode() == o.getRequestTrailerMode()
                        && m.getResponseHeaderMode() == o.getResponseHeaderMode()
                        && m.getResponseBodyMode() == o.getResponseBodyMode()
                        && m.getResponseTrailerMode() == o.getResponseTrailerMode());
        if (!allowed) {
            throw new EnvoyRules.Refused("ignores mode_override " + m + ": not in allowed_override_modes",
                    "ext_proc.cc Filter::onReceiveMessage");
        }
        setModes(m);
    }

    /** ProcessorState::handleHeadersResponse. */
    private void headers(Side s, HeadersResponse r) {
        if (s.waiting != Waiting.HEADERS) {
            throw spurious(s.name + "_headers answer while waiting for " + s.waiting);
        }
        CommonResponse c = r.getResponse();
        if (c.getStatus() != CommonResponse.ResponseStatus.CONTINUE || c.hasBodyMutation() || c.hasTrailers()) {
            throw new EnvoyRules.Refused(
                    "CONTINUE_AND_REPLACE, body and trailers in a headers answer are not modelled here",
                    "processor_state.cc handleHeadersResponseWithContinueAndReplace");
        }
        if (c.hasHeaderMutation()) {
            rules.headerRules.apply(c.getHeaderMutation(), s.headers, s.removesContentLength());
        }
        routeCache(s, c);
        // handleHeadersResponse: only a BUFFERED body still to come keeps the headers ("we won't be able
        // to modify the headers any more" once processing continues); otherwise they go on now
        s.headersReleased = s.noBody || s.body != BodySendMode.BUFFERED;
        s.finish(Waiting.IDLE);
    }

    /** ProcessorState::handleBodyResponse. */
    private void body(Side s, BodyResponse r) {
        CommonResponse c = r.getResponse();
        if (s.waiting == Waiting.BUFFERED_BODY) {
            if (c.hasHeaderMutation()) {
                if (s.headers == null || s.headersReleased) {
                    // handleBodyResponse logs "Response had header mutations but headers aren't available"
                    throw new EnvoyRules.Refused("drops the header_mutation of a " + s.name + "_body answer: the "
                            + "headers went on already", "processor_state.cc ProcessorState::handleBodyResponse");
                }
                rules.headerRules.apply(c.getHeaderMutation(), s.headers, s.removesContentLength());
            }
            if (c.hasBodyMutation() && s.headers != null && s.headers.containsKey("content-length")) {
                long declared = Long.parseLong(HeaderMaps.first(s.headers, "content-length"));
                if (declared != c.getBodyMutation().getBody().size()) {
                    throw new EnvoyRules.Refused(
                            "mismatch between content length and the length of the mutated body: 500",
                            "processor_state.cc ProcessorState::handleBodyResponse");
                }
            }
            if (c.hasBodyMutation() && s == decoding) {
                // MutationUtils::applyBodyMutations: body replaces the buffered data, clear_body empties it
                requestBody = new java.io.ByteArrayOutputStream();
                if (c.getBodyMutation().hasBody()) {
                    requestBody.writeBytes(c.getBodyMutation().getBody().toByteArray());
                }
            }
            routeCache(s, c);
            s.headersReleased = true;
            s.finish(Waiting.IDLE);
            return;
        }
        if (s.waiting != Waiting.STREAMED_BODY) {
            throw spurious(s.name + "_body answer while waiting for " + s.waiting);
        }
        if (c.hasHeaderMutation() && !(config.getSendBodyWithoutWaitingForHeaderResponse() && !s.headersReleased)) {
            // StreamedBodyCallback applies a header mutation only with send_body_without_waiting_for_header_response
            throw new EnvoyRules.Refused("drops the header_mutation of a streamed " + s.name + "_body answer",
                    "processor_state.cc ProcessorState::handleBodyResponse");
        }
        // ProcessorState::handleBodyInStreamedState
        boolean streamed = c.hasBodyMutation() && c.getBodyMutation().hasStreamedResponse();
        if (streamed != (s.body == BodySendMode.FULL_DUPLEX_STREAMED)) {
            throw spurious(streamed ? "streamed_response while the body mode is " + s.body
                    : "a plain body answer while the body mode is FULL_DUPLEX_STREAMED");
        }
        if (c.getClearRouteCache()) {
            routeCache(s, c);
        }
        s.queued--;
        s.finish(s.queued > 0 ? Waiting.STREAMED_BODY : Waiting.IDLE);
    }

    /** ProcessorState::handleTrailersResponse. */
    private void trailers(Side s) {
        if (s.waiting != Waiting.TRAILERS && s.body != BodySendMode.FULL_DUPLEX_STREAMED) {
            throw spurious(s.name + "_trailers answer while waiting for " + s.waiting);
        }
        s.finish(Waiting.IDLE);
    }

    /** Filter::sendImmediateResponse. */
    private void immediate(ImmediateResponse r) {
        if (config.getDisableImmediateResponse()) {
            throw spurious("immediate_response with disable_immediate_response");
        }
        // MutationUtils::isValidHttpStatus: below 200 Envoy answers 200 instead
        if (r.getStatus().getCodeValue() < 200) {
            throw new EnvoyRules.Refused("replaces status " + r.getStatus().getCodeValue() + " with 200",
                    "ext_proc.cc Filter::sendImmediateResponse");
        }
        if (r.hasHeaders()) {
            rules.headerRules.apply(r.getHeaders(), new LinkedHashMap<>(), false);
        }
        complete = true;
        localReply = r.getStatus().getCodeValue();
        decoding.finish(Waiting.IDLE);
        encoding.finish(Waiting.IDLE);
    }

    /** DecodingProcessorState::clearRouteCache: only with a header mutation, only on the request path. */
    private void routeCache(Side s, CommonResponse c) {
        if (!c.getClearRouteCache() && config.getRouteCacheAction() != RouteCacheAction.CLEAR) {
            return;
        }
        if (s == encoding) {
            throw new EnvoyRules.Refused("clear_route_cache on the response path has no effect", "processor_state.cc "
                    + "EncodingProcessorState::clearRouteCache");
        }
        if (!c.hasHeaderMutation()) {
            throw new EnvoyRules.Refused(
                    "ignores clear_route_cache without a header mutation (clear_route_cache_ignored)",
                    "processor_state.cc DecodingProcessorState::clearRouteCache");
        }
        if (config.getRouteCacheAction() == RouteCacheAction.RETAIN || config.getDisableClearRouteCache()) {
            throw new EnvoyRules.Refused("ignores clear_route_cache: route_cache_action RETAIN",
                    "processor_state.cc DecodingProcessorState::clearRouteCache");
        }
        routeCleared = true;
    }

    /** FailedPrecondition from a ProcessorState: a spurious message, 500 with fail-closed. */
    private EnvoyRules.Refused spurious(String what) {
        return new EnvoyRules.Refused("spurious message: " + what + ": " + errorStatus() + " ext_proc_error",
                "ext_proc.cc Filter::onReceiveMessage");
    }

    /** status_on_error (default 500; not in the published Java protos this module builds against). */
    private int errorStatus() {
        return 500;
    }
}
