package dev.tokenbudget.envoy;

import dev.tokenbudget.gateway.Admission;
import dev.tokenbudget.gateway.BudgetGateway;
import dev.tokenbudget.gateway.Forward;
import dev.tokenbudget.gateway.Identification;
import dev.tokenbudget.gateway.Identified;
import dev.tokenbudget.gateway.MeterResult;
import dev.tokenbudget.gateway.Reply;
import dev.tokenbudget.gateway.ResponseMeter;
import io.envoyproxy.envoy.service.ext_proc.v3.CommonResponse;
import io.envoyproxy.envoy.service.ext_proc.v3.HttpBody;
import io.envoyproxy.envoy.service.ext_proc.v3.HttpHeaders;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingRequest;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingResponse;
import io.envoyproxy.envoy.service.ext_proc.v3.ProtocolConfiguration;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;

import java.util.List;
import java.util.Map;

/**
 * One ext_proc stream, which is one HTTP request and its response, as a small state machine:
 * request headers (identify) → request body (admit) → response headers → response body chunks
 * (meter) → end. Every message Envoy may send in each state is handled (no body, trailers, a body
 * in many chunks, no response at all, observability mode); a message that cannot come in the
 * current state, or a malformed one, ends this stream with a gRPC error and nothing else.
 *
 * <p>The stream's ticket is always closed once: settled by the meter when the response ends, or
 * settled/released by {@link ResponseMeter#abort()} when the stream ends first (client reset,
 * Envoy gave up, server drain). gRPC delivers one stream's callbacks one at a time; the methods
 * are synchronized anyway so that the drain's cancellation cannot interleave.
 */
final class ExtProcStream implements StreamObserver<ProcessingRequest> {

    private enum Phase { REQUEST_HEADERS, REQUEST_BODY, AWAITING_RESPONSE, RESPONSE_BODY, DONE }

    /** Which message an admission answers. */
    private enum Answering { REQUEST_HEADERS, REQUEST_BODY, NOTHING }

    private final BudgetGateway gateway;
    private final ServerCallStreamObserver<ProcessingResponse> out;
    private final StreamRecord record;

    private Phase phase = Phase.REQUEST_HEADERS;
    private boolean first = true;
    private ProtocolConfiguration announced;
    private boolean observed;
    private Map<String, List<String>> requestHeaders;
    private Identified identified;
    private BoundedBody observedBody;
    private Forward forward;
    private boolean closed;
    private volatile boolean cancelled;

    ExtProcStream(BudgetGateway gateway, ServerCallStreamObserver<ProcessingResponse> out, StreamRecord record) {
        this.gateway = gateway;
        this.out = out;
        this.record = record;
        // with a handler, a late onNext after a reset is dropped instead of throwing
        out.setOnCancelHandler(() -> cancelled = true);
    }

    @Override
    public synchronized void onNext(ProcessingRequest req) {
        if (closed) {
            return;
        }
        try {
            handle(req);
        } catch (ProtocolViolation v) {
            fail(v.status());
        } catch (RuntimeException e) {
            record.error(e);
            fail(Status.INTERNAL.withDescription("tokenbudget: internal error: " + e));
        }
    }

    private void handle(ProcessingRequest req) {
        if (first) {
            first = false;
            announced = req.hasProtocolConfig() ? req.getProtocolConfig() : null;
            observed = req.getObservabilityMode();
            record.observed(observed);
        } else if (req.getObservabilityMode() != observed) {
            throw ProtocolViolation.invalid("observability_mode changed within one stream");
        }
        switch (req.getRequestCase()) {
            case REQUEST_HEADERS -> onRequestHeaders(req.getRequestHeaders());
            case REQUEST_BODY -> onRequestBody(req.getRequestBody());
            case REQUEST_TRAILERS -> onRequestTrailers();
            case RESPONSE_HEADERS -> onResponseHeaders(req.getResponseHeaders());
            case RESPONSE_BODY -> onResponseBody(req.getResponseBody());
            case RESPONSE_TRAILERS -> onResponseTrailers();
            case REQUEST_NOT_SET -> throw ProtocolViolation.invalid("ProcessingRequest sets none of request_headers, "
                    + "request_body, request_trailers, response_headers, response_body, response_trailers");
        }
    }

    private void onRequestHeaders(HttpHeaders h) {
        expect(Phase.REQUEST_HEADERS, "request_headers");
        requestHeaders = HeaderMaps.read(h.getHeaders());
        EnvoyRequestView view = new EnvoyRequestView(requestHeaders);
        record.request(view.method(), view.path());
        Identification id = gateway.identify(view);
        if (id instanceof Reply r) {
            reply(r);
            return;
        }
        identified = (Identified) id;
        record.identified(identified);
        if (h.getEndOfStream()) {
            admit(new byte[0], Answering.REQUEST_HEADERS);
            return;
        }
        phase = Phase.REQUEST_BODY;
        if (observed) {
            observedBody = new BoundedBody(gateway.options().maxBodyBytes());
            return;
        }
        String why = ProcessingModes.unsupportedRequestBodyMode(announced);
        if (why != null) {
            throw ProtocolViolation.precondition(why);
        }
        answer(Answers.continueRequestHeaders());
    }

    private void onRequestBody(HttpBody b) {
        expect(Phase.REQUEST_BODY, "request_body");
        if (observed) {
            observedBody.append(b.getBody().toByteArray());
            if (b.getEndOfStream()) {
                admit(observedBody.toByteArray(), Answering.NOTHING);
            }
            return;
        }
        // BUFFERED: the whole body in one message; end_of_stream is false only when trailers follow
        admit(b.getBody().toByteArray(), Answering.REQUEST_BODY);
    }

    private void onRequestTrailers() {
        if (phase == Phase.REQUEST_BODY && observed) {
            admit(observedBody.toByteArray(), Answering.NOTHING); // trailers end the streamed body
        } else if (phase == Phase.AWAITING_RESPONSE) {
            answer(Answers.continueRequestTrailers()); // after a BUFFERED body that said more follows
        } else if (phase == Phase.REQUEST_BODY) {
            throw ProtocolViolation.precondition("request_trailers came before any request body, so the request "
                    + "headers can no longer be changed; set processing_mode.request_trailer_mode: SKIP");
        } else {
            throw ProtocolViolation.outOfOrder("request_trailers", phase.name());
        }
    }

    private void admit(byte[] body, Answering answering) {
        Admission a = gateway.admit(identified, body);
        if (a instanceof Reply r) {
            reply(r);
            return;
        }
        forward = (Forward) a;
        record.forwarded(forward);
        phase = Phase.AWAITING_RESPONSE;
        if (answering != Answering.NOTHING) {
            CommonResponse c = Answers.forward(forward, requestHeaders);
            answer(answering == Answering.REQUEST_HEADERS ? Answers.requestHeaders(c) : Answers.requestBody(c));
        }
    }

    private void onResponseHeaders(HttpHeaders h) {
        if (phase == Phase.REQUEST_BODY && observed) {
            // the upstream answered before the streamed request body ended: admit with what came
            admit(observedBody.toByteArray(), Answering.NOTHING);
            if (closed) {
                return;
            }
        } else if (phase == Phase.REQUEST_BODY) {
            throw ProtocolViolation.precondition("response_headers came before the request body: the request went "
                    + "upstream unadmitted; set processing_mode.request_body_mode: BUFFERED");
        }
        expect(Phase.AWAITING_RESPONSE, "response_headers");
        Map<String, List<String>> headers = HeaderMaps.read(h.getHeaders());
        int status = statusOf(HeaderMaps.first(headers, ":status"));
        ResponseMeter meter = forward.meter();
        meter.onResponseHeaders(status, HeaderMaps.first(headers, "content-type"),
                name -> HeaderMaps.first(headers, name.toLowerCase(java.util.Locale.ROOT)));
        record.responseStatus(status);
        boolean metered = forward.ticket() != null && forward.ticket().accounted();
        if (h.getEndOfStream() || !metered) {
            record.meter(meter.complete());
            end(Answers.responseHeaders(forward.responseHeaders(), false));
            return;
        }
        phase = Phase.RESPONSE_BODY;
        answer(Answers.responseHeaders(forward.responseHeaders(), ProcessingModes.needsResponseOverride(announced)));
    }

    private void onResponseBody(HttpBody b) {
        expect(Phase.RESPONSE_BODY, "response_body");
        byte[] chunk = b.getBody().toByteArray();
        forward.meter().onBytes(chunk, 0, chunk.length);
        record.responseBytes(chunk.length);
        if (b.getEndOfStream()) {
            record.meter(forward.meter().complete());
            end(Answers.continueResponseBody());
        } else {
            answer(Answers.continueResponseBody());
        }
    }

    private void onResponseTrailers() {
        expect(Phase.RESPONSE_BODY, "response_trailers");
        record.meter(forward.meter().complete()); // trailers end a body whose last chunk said more follows
        end(Answers.continueResponseTrailers());
    }

    /** Envoy half-closed: the HTTP stream is over. Whatever is not settled yet is aborted. */
    @Override
    public synchronized void onCompleted() {
        abortMeter();
        if (!closed) {
            closed = true;
            phase = Phase.DONE;
            complete();
        }
        record.end(cancelled ? "cancelled" : "closed_by_envoy");
    }

    /** Envoy reset the stream (client gone, timeout, Envoy shut down) or the server is cancelling it. */
    @Override
    public synchronized void onError(Throwable t) {
        abortMeter();
        closed = true;
        phase = Phase.DONE;
        record.end("reset: " + Status.fromThrowable(t).getCode());
    }

    private void reply(Reply r) {
        record.replied(r.status());
        end(observed ? null : Answers.immediate(r));
    }

    /** Sends the last answer (if any) and closes the stream cleanly: Envoy needs nothing more from us. */
    private void end(ProcessingResponse last) {
        if (last != null) {
            answer(last);
        }
        closed = true;
        phase = Phase.DONE;
        complete();
        record.end("done");
    }

    private void fail(Status s) {
        abortMeter();
        closed = true;
        phase = Phase.DONE;
        record.failed(s);
        if (!cancelled) {
            try {
                out.onError(s.asRuntimeException());
            } catch (RuntimeException ignored) {
                // the call ended meanwhile
            }
        }
        record.end("failed");
    }

    private void answer(ProcessingResponse r) {
        if (!observed && !cancelled) {
            out.onNext(r);
        }
    }

    private void complete() {
        if (!cancelled) {
            try {
                out.onCompleted();
            } catch (RuntimeException ignored) {
                // the call ended meanwhile
            }
        }
    }

    private void abortMeter() {
        if (forward != null && forward.meter().result() == null) {
            record.meter(forward.meter().abort());
        }
    }

    private void expect(Phase p, String message) {
        if (phase != p) {
            throw ProtocolViolation.outOfOrder(message, phase.name());
        }
    }

    private static int statusOf(String s) {
        try {
            int v = s == null ? -1 : Integer.parseInt(s.trim());
            if (v >= 100 && v <= 999) {
                return v;
            }
        } catch (NumberFormatException e) {
            // below
        }
        throw ProtocolViolation.invalid("response_headers without a valid :status header (was " + s + ")");
    }

    /** Records what happened for the stream's log line. */
    interface StreamRecord {
        void observed(boolean on);

        void request(String method, String path);

        void identified(Identified id);

        void forwarded(Forward f);

        void replied(int status);

        void responseStatus(int status);

        void responseBytes(int n);

        void meter(MeterResult r);

        void failed(Status s);

        void error(RuntimeException e);

        /** The stream ended; called at least once, only the first call counts. */
        void end(String how);
    }
}
