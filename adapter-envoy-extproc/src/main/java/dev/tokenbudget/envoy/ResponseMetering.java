package dev.tokenbudget.envoy;

import com.google.protobuf.ByteString;
import dev.tokenbudget.gateway.Forward;
import dev.tokenbudget.gateway.ResponseMeter;
import io.envoyproxy.envoy.service.ext_proc.v3.HttpBody;
import io.envoyproxy.envoy.service.ext_proc.v3.HttpHeaders;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingResponse;
import io.envoyproxy.envoy.service.ext_proc.v3.ProtocolConfiguration;

/**
 * The response side of an admitted stream: Envoy's response messages fed to the forward's meter,
 * each answered, and the meter closed once (completed by the response's end, aborted when the
 * stream ends first). The stream ({@link ExtProcStream}) checks the order of the messages and
 * sends the answers; it calls this under its own lock.
 */
final class ResponseMetering {

    /** How a message's bytes reach the meter: copied, a piece at a time, into the meter's array. */
    private static final ResponseMeter.ChunkCopier<ByteString> COPY =
            (chunk, from, to, toOff, len) -> chunk.copyTo(to, from, toOff, len);

    /** An answer to a response message, and whether the stream ends with it. */
    record Step(ProcessingResponse answer, boolean last) {
    }

    private final Forward forward;
    private final StreamRecord record;

    ResponseMetering(Forward forward, StreamRecord record) {
        this.forward = forward;
        this.record = record;
    }

    /**
     * The response's status and headers, and the decision headers added to them. The stream ends
     * here when no body follows or nothing is metered (no lease: fail open, observability).
     */
    Step headers(HttpHeaders h, ProtocolConfiguration announced) {
        EnvoyHeaders headers = new EnvoyHeaders(h.getHeaders());
        int status = headers.status();
        ResponseMeter meter = forward.meter();
        meter.onResponseHeaders(status, headers.first("content-type"), headers::first);
        record.responseStatus(status);
        boolean metered = forward.ticket() != null && forward.ticket().holdsLease();
        if (h.getEndOfStream() || !metered) {
            record.meter(meter.complete());
            return new Step(Answers.responseHeaders(forward.responseHeaders(), false), true);
        }
        return new Step(Answers.responseHeaders(forward.responseHeaders(),
                ProcessingModes.needsResponseOverride(announced)), false);
    }

    /** A chunk of the response body, metered; the last one settles. */
    Step body(HttpBody b) {
        ByteString body = b.getBody();
        // a message's ByteString offers no view of its bytes but read-only buffers (a list and two
        // buffers per chunk): copied straight into the meter's array instead
        forward.meter().onBytes(body, 0, body.size(), COPY);
        record.responseBytes(body.size());
        if (b.getEndOfStream()) {
            record.meter(forward.meter().complete());
            return new Step(Answers.continueResponseBody(), true);
        }
        return new Step(Answers.continueResponseBody(), false);
    }

    /** Trailers end a body whose last chunk said more follows: settled, and the stream's last answer. */
    ProcessingResponse trailers() {
        record.meter(forward.meter().complete());
        return Answers.continueResponseTrailers();
    }

    /** The stream ended before the response did: what the meter holds is settled or released. */
    void abort() {
        if (forward.meter().result() == null) {
            record.meter(forward.meter().abort());
        }
    }
}
