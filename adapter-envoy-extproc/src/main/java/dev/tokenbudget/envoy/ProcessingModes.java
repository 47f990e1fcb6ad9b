package dev.tokenbudget.envoy;

import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ProcessingMode;
import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ProcessingMode.BodySendMode;
import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ProcessingMode.HeaderSendMode;
import io.envoyproxy.envoy.service.ext_proc.v3.ProtocolConfiguration;

/**
 * The processing modes this processor works with. The filter config asks for request headers and
 * the BUFFERED request body (admission needs the whole body, and only BUFFERED lets a body answer
 * still change headers); the response body is requested per stream, STREAMED, with
 * {@link #METERED_RESPONSE} as {@code mode_override} in the {@code response_headers} answer. An
 * Envoy with {@code allowed_override_modes} must list exactly this mode (examples/envoy/envoy.yaml).
 */
public final class ProcessingModes {

    /** Sent as {@code mode_override} to have an admitted request's response body streamed to the meter. */
    public static final ProcessingMode METERED_RESPONSE = ProcessingMode.newBuilder()
            .setRequestHeaderMode(HeaderSendMode.SEND)
            .setRequestBodyMode(BodySendMode.BUFFERED)
            .setRequestTrailerMode(HeaderSendMode.SKIP)
            .setResponseHeaderMode(HeaderSendMode.SEND)
            .setResponseBodyMode(BodySendMode.STREAMED)
            // trailers end a response whose last body chunk cannot say end_of_stream
            .setResponseTrailerMode(HeaderSendMode.SEND)
            .build();

    private ProcessingModes() {
    }

    /**
     * Whether the response body must be requested by {@code mode_override}: when the filter
     * announced (in {@code protocol_config}, sent by recent Envoys) that it sends no response body,
     * or announced nothing. A filter that sends the body anyway (STREAMED, BUFFERED,
     * BUFFERED_PARTIAL) gets no override, which Envoy would ignore without {@code allow_mode_override}.
     */
    static boolean needsResponseOverride(ProtocolConfiguration announced) {
        return announced == null || announced.getResponseBodyMode() == BodySendMode.NONE;
    }

    /**
     * Why a filter's announced response body mode cannot work, or null when it can. In
     * FULL_DUPLEX_STREAMED Envoy drains each chunk and expects the processor to send the body back
     * in {@code streamed_response} (processor_state.cc handleBodyInStreamedState), keeps no timer,
     * ignores {@code mode_override} and forces fail-closed: a meter that only reads would lose the
     * response. Refused at the stream's first message, like an unusable request body mode.
     */
    static String unsupportedResponseBodyMode(ProtocolConfiguration announced) {
        if (announced == null || announced.getResponseBodyMode() != BodySendMode.FULL_DUPLEX_STREAMED) {
            return null;
        }
        return "the ext_proc filter sends response bodies in mode FULL_DUPLEX_STREAMED, in which Envoy expects "
                + "every chunk back from the processor; tokenbudget reads them: set processing_mode."
                + "response_body_mode: NONE (with the mode_override) or STREAMED";
    }

    /**
     * Why a filter's announced request body mode cannot work, or null when it can: NONE never shows
     * the body, and STREAMED / BUFFERED_PARTIAL / FULL_DUPLEX_STREAMED let body chunks go upstream
     * before the request is admitted, and header changes after the headers are gone.
     */
    static String unsupportedRequestBodyMode(ProtocolConfiguration announced) {
        if (announced == null) {
            return null;
        }
        BodySendMode m = announced.getRequestBodyMode();
        if (m == BodySendMode.BUFFERED) {
            return null;
        }
        return "the ext_proc filter sends request bodies in mode " + m + "; tokenbudget needs "
                + "processing_mode.request_body_mode: BUFFERED (or observability_mode with STREAMED)";
    }
}
