package dev.tokenbudget.envoy;

import com.google.protobuf.util.Durations;
import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ExternalProcessor;
import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ExternalProcessor.RouteCacheAction;
import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ProcessingMode;
import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ProcessingMode.BodySendMode;
import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ProcessingMode.HeaderSendMode;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.service.ext_proc.v3.BodyResponse;
import io.envoyproxy.envoy.service.ext_proc.v3.CommonResponse;
import io.envoyproxy.envoy.service.ext_proc.v3.HeadersResponse;
import io.envoyproxy.envoy.service.ext_proc.v3.ImmediateResponse;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingRequest;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingResponse;
import io.envoyproxy.envoy.service.ext_proc.v3.ProtocolConfiguration;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * Envoy's side of the ext_proc protocol, as a test fixture: one {@link ExternalProcessor} filter
 * config and, per HTTP stream, a {@link Filter} that checks each message a test sends is one Envoy
 * would send now, and applies each answer the way Envoy does, or throws what Envoy would do with
 * it ({@link Refused}: Envoy answers 500 / 504, or silently drops the answer).
 *
 * <p>Every rule names the Envoy function it mirrors. Read at Envoy main of 2026 (the filter with
 * {@code status_on_error}, {@code processing_request_modifier} and FULL_DUPLEX_STREAMED):
 * {@code source/extensions/filters/http/ext_proc/ext_proc.cc} (Filter::onReceiveMessage and the
 * encode/decode callbacks), {@code processor_state.cc} / {@code processor_state.h} (ProcessorState),
 * and {@link EnvoyHeaderRules} for header mutations. Time is the engine's manual clock, so a
 * per-message timeout is a deadline on that clock, never a wall-clock wait.
 */
final class EnvoyRules {

    /** What Envoy does instead of what the processor meant: a local reply, or a silently dropped answer. */
    static final class Refused extends AssertionError {
        private static final long serialVersionUID = 1L;

        Refused(String what, String mirrors) {
            super("Envoy: " + what + " [" + mirrors + "]");
        }
    }

    /** What Envoy did with an answer. */
    enum Outcome { APPLIED, TIMER_RESTARTED, IGNORED }

    /** ProcessorState::CallbackState. */
    private enum Waiting { IDLE, HEADERS, BUFFERED_BODY, STREAMED_BODY, TRAILERS }

    /** Envoy's default {@code message_timeout} (ext_proc.proto). */
    static final Duration DEFAULT_MESSAGE_TIMEOUT = Duration.ofMillis(200);

    final ExternalProcessor config;
    private final LongSupplier nanos;
    private final EnvoyHeaderRules headerRules;

    EnvoyRules(ExternalProcessor config, LongSupplier nanos) {
        this.config = config;
        this.nanos = nanos;
        this.headerRules = new EnvoyHeaderRules(config.getMutationRules());
    }

    /** The filter of examples/envoy/envoy.yaml. */
    static EnvoyRules example(LongSupplier nanos) {
        try {
            var bootstrap = EnvoyBootstrapFile.parse(Files.readString(EnvoyBootstrapFile.example()));
            var hcm = bootstrap.getStaticResources().getListeners(0).getFilterChains(0).getFilters(0)
                    .getTypedConfig().unpack(HttpConnectionManager.class);
            return new EnvoyRules(hcm.getHttpFilters(0).getTypedConfig().unpack(ExternalProcessor.class), nanos);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * The example's filter on a clock that never moves: for a processor in another process or on
     * the system clock, where these tests check the protocol, not the timing.
     */
    static EnvoyRules untimed() {
        return example(() -> 0L);
    }

    /** The same filter with other settings, e.g. {@code r -> r.setProcessingMode(...)}. */
    EnvoyRules with(java.util.function.Consumer<ExternalProcessor.Builder> change) {
        ExternalProcessor.Builder b = config.toBuilder();
        change.accept(b);
        return new EnvoyRules(b.build(), nanos);
    }

    /** What this filter announces in {@code protocol_config} (Filter::encodeProtocolConfig). */
    ProtocolConfiguration announced() {
        return ProtocolConfiguration.newBuilder()
                .setRequestBodyMode(config.getProcessingMode().getRequestBodyMode())
                .setResponseBodyMode(config.getProcessingMode().getResponseBodyMode())
                .setSendBodyWithoutWaitingForHeaderResponse(config.getSendBodyWithoutWaitingForHeaderResponse())
                .build();
    }

    Duration messageTimeout() {
        return config.hasMessageTimeout() ? Duration.ofNanos(Durations.toNanos(config.getMessageTimeout()))
                : DEFAULT_MESSAGE_TIMEOUT;
    }

    /** {@code max_message_timeout}; zero (the default) lets no override through. */
    Duration maxMessageTimeout() {
        return Duration.ofNanos(Durations.toNanos(config.getMaxMessageTimeout()));
    }

    Filter filter() {
        return new Filter();
    }

    /** One direction of one stream: DecodingProcessorState or EncodingProcessorState. */
    private final class Side {
        final String name;
        boolean sendHeaders;
        boolean sendTrailers;
        BodySendMode body;
        Waiting waiting = Waiting.IDLE;
        Map<String, List<String>> headers;
        boolean headersSeen;
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
            deadline = body == BodySendMode.FULL_DUPLEX_STREAMED ? -1 : nanos.getAsLong() + messageTimeout().toNanos();
        }

        /** ProcessorState::onFinishProcessorCall. */
        void finish(Waiting next) {
            waiting = next;
            deadline = next == Waiting.IDLE ? -1 : deadline;
        }
    }

    /** One HTTP stream's ext_proc filter instance. */
    final class Filter {
        private final Side decoding = new Side("request");
        private final Side encoding = new Side("response");
        private boolean first = true;
        private boolean complete;
        private boolean routeCleared;
        private int localReply = -1;

        private Filter() {
            setModes(config.getProcessingMode());
        }

        /** What this filter announces on the stream's first message. */
        ProtocolConfiguration announced() {
            return EnvoyRules.this.announced();
        }

        /** The request headers as Envoy forwards them upstream, after every applied mutation. */
        Map<String, List<String>> requestHeaders() {
            return decoding.headers;
        }

        Map<String, List<String>> responseHeaders() {
            return encoding.headers;
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
                throw new Refused("sends nothing more once processing is complete", "ext_proc.cc Filter::openStream");
            }
            if (r.getObservabilityMode() != config.getObservabilityMode()) {
                throw new Refused("observability_mode is the filter's, on every message", "ext_proc.cc buildHeaderRequest");
            }
            if (first && r.hasProtocolConfig() && !config.getObservabilityMode()
                    && !r.getProtocolConfig().equals(announced())) {
                throw new Refused("announces " + announced() + ", not " + r.getProtocolConfig(),
                        "ext_proc.cc Filter::encodeProtocolConfig");
            }
            if (!first && r.hasProtocolConfig()) {
                throw new Refused("protocol_config only on the first message", "ext_proc.cc Filter::encodeProtocolConfig");
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
                case REQUEST_NOT_SET -> throw new Refused("never sends an empty ProcessingRequest",
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
                throw new Refused("would not send " + what + " now (request body mode " + decoding.body
                        + ", response body mode " + encoding.body + ", waiting for " + decoding.waiting + " / "
                        + encoding.waiting + ")", "ext_proc.cc Filter::onHeaders / onData / onTrailers");
            }
        }

        /** An answer from the processor arriving now. */
        Outcome answered(ProcessingResponse a) {
            return answered(a, nanos.getAsLong());
        }

        /** An answer from the processor that arrived at {@code at}, applied as Filter::onReceiveMessage does. */
        Outcome answered(ProcessingResponse a, long at) {
            if (config.getObservabilityMode()) {
                return Outcome.IGNORED; // Filter::onReceiveMessage: answers are ignored in observability mode
            }
            if (complete) {
                return Outcome.IGNORED; // "Ignoring stream message received after processing complete"
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
            return Outcome.APPLIED;
        }

        /** ProcessorState message timer: Filter::onMessageTimeout answers 504 once it fires. */
        private void checkDeadline(long now) {
            for (Side s : List.of(decoding, encoding)) {
                if (s.deadline >= 0 && now > s.deadline) {
                    throw new Refused("the " + s.name + " " + s.waiting + " message timer fired "
                            + Duration.ofNanos(now - s.deadline) + " before the answer: 504 "
                            + "ext_proc_error_per-message_timeout_exceeded, and the stream is closed",
                            "ext_proc.cc Filter::onMessageTimeout");
                }
            }
        }

        /** Filter::onNewTimeout and ProcessorState::restartMessageTimer. */
        private Outcome overrideTimeout(ProcessingResponse a, long at) {
            if (a.getResponseCase() != ProcessingResponse.ResponseCase.RESPONSE_NOT_SET || a.hasModeOverride()) {
                throw new Refused("reads only override_message_timeout from this message; its "
                        + a.getResponseCase() + " answer is dropped", "ext_proc.cc Filter::onReceiveMessage");
            }
            long ms = Durations.toMillis(a.getOverrideMessageTimeout());
            if (ms < 1 || ms > maxMessageTimeout().toMillis()) {
                throw new Refused("ignores override_message_timeout " + ms + " ms: outside [1 ms, max_message_timeout "
                        + maxMessageTimeout().toMillis() + " ms]", "ext_proc.cc Filter::onNewTimeout");
            }
            for (Side s : List.of(decoding, encoding)) {
                if (s.deadline >= 0 && !s.timerRestarted) {
                    s.deadline = at + Duration.ofMillis(ms).toNanos();
                    s.timerRestarted = true;
                    return Outcome.TIMER_RESTARTED;
                }
            }
            throw new Refused("ignores override_message_timeout: no timer running, or already restarted once for "
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
                throw new Refused("ignores mode_override (allow_mode_override " + config.getAllowModeOverride()
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
                throw new Refused("ignores mode_override " + m + ": not in allowed_override_modes",
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
                throw new Refused("CONTINUE_AND_REPLACE, body and trailers in a headers answer are not modelled here",
                        "processor_state.cc handleHeadersResponseWithContinueAndReplace");
            }
            if (c.hasHeaderMutation()) {
                headerRules.apply(c.getHeaderMutation(), s.headers, s.removesContentLength());
            }
            routeCache(s, c);
            s.finish(Waiting.IDLE);
        }

        /** ProcessorState::handleBodyResponse. */
        private void body(Side s, BodyResponse r) {
            CommonResponse c = r.getResponse();
            if (s.waiting == Waiting.BUFFERED_BODY) {
                if (c.hasHeaderMutation() && s.headers != null) {
                    headerRules.apply(c.getHeaderMutation(), s.headers, s.removesContentLength());
                }
                if (c.hasBodyMutation() && s.headers != null && s.headers.containsKey("content-length")) {
                    long declared = Long.parseLong(HeaderMaps.first(s.headers, "content-length"));
                    if (declared != c.getBodyMutation().getBody().size()) {
                        throw new Refused("mismatch between content length and the length of the mutated body: 500",
                                "processor_state.cc ProcessorState::handleBodyResponse");
                    }
                }
                routeCache(s, c);
                s.finish(Waiting.IDLE);
                return;
            }
            if (s.waiting != Waiting.STREAMED_BODY) {
                throw spurious(s.name + "_body answer while waiting for " + s.waiting);
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
                throw new Refused("replaces status " + r.getStatus().getCodeValue() + " with 200",
                        "ext_proc.cc Filter::sendImmediateResponse");
            }
            if (r.hasHeaders()) {
                headerRules.apply(r.getHeaders(), new LinkedHashMap<>(), false);
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
                throw new Refused("clear_route_cache on the response path has no effect", "processor_state.cc "
                        + "EncodingProcessorState::clearRouteCache");
            }
            if (!c.hasHeaderMutation()) {
                throw new Refused("ignores clear_route_cache without a header mutation (clear_route_cache_ignored)",
                        "processor_state.cc DecodingProcessorState::clearRouteCache");
            }
            if (config.getRouteCacheAction() == RouteCacheAction.RETAIN || config.getDisableClearRouteCache()) {
                throw new Refused("ignores clear_route_cache: route_cache_action RETAIN",
                        "processor_state.cc DecodingProcessorState::clearRouteCache");
            }
            routeCleared = true;
        }

        /** FailedPrecondition from a ProcessorState: a spurious message, 500 with fail-closed. */
        private Refused spurious(String what) {
            return new Refused("spurious message: " + what + ": " + errorStatus() + " ext_proc_error",
                    "ext_proc.cc Filter::onReceiveMessage");
        }

        /** status_on_error (default 500; not in the published Java protos this module builds against). */
        private int errorStatus() {
            return 500;
        }
    }
}
