package dev.tokenbudget.envoy;

import dev.tokenbudget.gateway.Admission;
import dev.tokenbudget.gateway.BudgetGateway;
import dev.tokenbudget.gateway.Forward;
import dev.tokenbudget.gateway.Identification;
import dev.tokenbudget.gateway.Identified;
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

import java.util.Map;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.concurrent.Future;

/**
 * One ext_proc stream, which is one HTTP request and its response, as a small state machine:
 * request headers (identify) → request body (admit) → response headers → response body chunks
 * (meter) → end. Every message Envoy may send in each state is handled (no body, trailers, a body
 * in many chunks, no response at all, Envoy's own local reply before the body, observability
 * mode); a message that cannot come in the current state, or a malformed one, ends this stream
 * with a gRPC error and nothing else.
 *
 * <p>Admission runs asynchronously: nothing waits for the store (a Redis round trip) or an upstream
 * quota; an admission not decided at once goes on when it is (on the deciding thread when only an
 * answer to hand to gRPC follows, else on {@code continuations}, the callback pool), and always
 * answers before Envoy's per-message timer could fire ({@link MessageTimeouts}), asking for more
 * time first where the filter allows it. Envoy sends a stream's
 * next message only after this one's answer (its own local reply aside); in observability mode,
 * where it waits for nothing, what arrives meanwhile is held ({@link HeldMessages}). The stream's
 * ticket is always closed once: settled by the meter when the response ends, settled/released by
 * {@link ResponseMeter#abort()} when the stream ends first (client reset, server drain), or
 * withdrawn whole ({@link ResponseMeter#withdraw()}, upstream quota included) when Envoy gave up
 * before it got the admission's answer. gRPC delivers one stream's callbacks one at a time; the
 * methods are synchronized because the admission completes on another thread and the drain's
 * cancellation must not interleave.
 */
final class ExtProcStream implements StreamObserver<ProcessingRequest> {

    private enum Phase { REQUEST_HEADERS, REQUEST_BODY, ADMITTING, AWAITING_RESPONSE, RESPONSE_BODY, DONE }

    /** Which message an admission answers. */
    private enum Answering { REQUEST_HEADERS, REQUEST_BODY, NOTHING }

    private final BudgetGateway gateway;
    private final UpstreamSigning signing;
    private final MessageTimeouts timeouts;
    private final Executor continuations;
    private final StreamOutput out;
    private final StreamRecord record;
    private final Runnable onAbandoned;
    private final HeldMessages held = new HeldMessages();

    private Phase phase = Phase.REQUEST_HEADERS;
    private boolean first = true;
    private ProtocolConfiguration announced;
    private boolean observed;
    private EnvoyHeaders requestHeaders;
    /** The client's body, kept until the admission's answer is signed. */
    private byte[] clientBody;
    private Identified identified;
    private BoundedBody observedBody;
    /** The admitted request's response side, once admitted. */
    private ResponseMetering response;
    private boolean closed;
    /** Envoy answered the request itself (413, 408...) while the admission was still being decided. */
    private boolean localReply;
    /** The request for more time an undecided admission sends when it is still undecided later. */
    private Future<?> askLater;

    /**
     * @param continuations where an admission not decided at once continues (the callback pool)
     * @param onAbandoned   run when Envoy ends the stream while its admission is still being decided
     */
    ExtProcStream(BudgetGateway gateway, UpstreamSigning signing, MessageTimeouts timeouts, Executor continuations,
                  ServerCallStreamObserver<ProcessingResponse> out, StreamRecord record, Runnable onAbandoned) {
        this.gateway = gateway;
        this.signing = signing;
        this.timeouts = timeouts;
        this.continuations = continuations;
        this.onAbandoned = onAbandoned;
        this.out = new StreamOutput(out);
        this.record = record;
    }

    @Override
    public synchronized void onNext(ProcessingRequest req) {
        if (closed) {
            return;
        }
        if (held.holding()) {
            held.hold(req);
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
            out.observed(observed);
            record.observed(observed);
            String why = observed ? null : ProcessingModes.unsupportedResponseBodyMode(announced);
            if (why != null) {
                throw ProtocolViolation.precondition(why);
            }
        } else if (req.getObservabilityMode() != observed) {
            throw ProtocolViolation.invalid("observability_mode changed within one stream");
        }
        if (observed && phase == Phase.REQUEST_BODY && req.hasResponseHeaders()) {
            // the upstream answered before the streamed request body ended: admit with what came
            admit(observedBody.toByteArray(), Answering.NOTHING);
            if (held.holding() || closed) {
                onNext(req); // held until the admission is in, or dropped: the stream has ended
                return;
            }
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
        requestHeaders = new EnvoyHeaders(h.getHeaders());
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
        out.answer(Answers.continueRequestHeaders());
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
            out.answer(Answers.continueRequestTrailers()); // after a BUFFERED body that said more follows
        } else if (phase == Phase.REQUEST_BODY) {
            throw ProtocolViolation.precondition("request_trailers came before any request body, so the request "
                    + "headers can no longer be changed; set processing_mode.request_trailer_mode: SKIP");
        } else {
            throw ProtocolViolation.outOfOrder("request_trailers", phase.name());
        }
    }

    /**
     * Starts the admission; its answer goes out when it completes. Envoy's timer runs from the
     * message's arrival: a large body first restarts it at {@code max_message_timeout} when the
     * filter has one, and an admission still undecided at half of {@code message_timeout} (a wait
     * for the upstream quota, a slow store) does then; the quota wait ends early enough for the
     * answer to arrive in time either way.
     */
    private void admit(byte[] body, Answering answering) {
        if (answering == Answering.NOTHING) {
            // observability: Envoy waits for no answer, and the response may follow at once
            held.start();
            continueWhenDecided(gateway.admitAsync(identified, body, null), answering);
            return;
        }
        phase = Phase.ADMITTING;
        clientBody = body;
        boolean extend = timeouts.extensible();
        boolean extended = false;
        if (extend && body.length >= MessageTimeouts.SLOW_BODY_BYTES) {
            out.answer(timeouts.moreTime());
            extended = true;
        }
        CompletionStage<Admission> admission = gateway.admitAsync(identified, body, timeouts.answerWithin(extend));
        if (extend && !extended && !admission.toCompletableFuture().isDone()) {
            // waiting for the store or the upstream quota: Redis answers in milliseconds, so more time
            // is asked for only when the decision is late
            askLater = timeouts.askLater(this::askForMoreTime);
        }
        continueWhenDecided(admission, answering);
    }

    /** An admission still undecided at half of {@code message_timeout}: Envoy's timer restarts at its maximum. */
    private synchronized void askForMoreTime() {
        if (phase == Phase.ADMITTING && !closed && askLater != null) {
            askLater = null;
            out.answer(timeouts.moreTime());
        }
    }

    /**
     * Decided already (the memory store): on with it here. Decided later (Redis, an upstream quota):
     * on the thread that decided it when all that follows is to build the forward's answer and hand
     * it to gRPC ({@link #answersOnly}), else on the callback pool.
     */
    private void continueWhenDecided(CompletionStage<Admission> admission, Answering answering) {
        if (admission.toCompletableFuture().isDone()) {
            admission.whenComplete((a, e) -> admitted(a, e, answering));
        } else {
            admission.whenComplete((a, e) -> admittedLater(a, e, answering));
        }
    }

    /**
     * An admission decided on another thread (the store's I/O thread, the quota's timer). Handing
     * the rest to the callback pool costs a queue and a thread's wake-up per stream, more than the
     * rest itself when that is an answer built and handed to gRPC, which neither blocks nor logs:
     * that runs here. What may block or take long goes to the pool: a signed provider's
     * credentials (a token refresh), an observability-mode stream's held messages (the response
     * metered), and the stream's end with its log line (a reply, an error, Envoy gone meanwhile).
     */
    private synchronized void admittedLater(Admission a, Throwable e, Answering answering) {
        if (answersOnly(a, e, answering)) {
            admitted(a, e, answering);
        } else {
            continuations.execute(() -> admitted(a, e, answering));
        }
    }

    private boolean answersOnly(Admission a, Throwable e, Answering answering) {
        return e == null && answering != Answering.NOTHING && !closed && !localReply
                && a instanceof Forward f && f.signer() == null;
    }

    /** The admission's outcome; then what an observability-mode stream held meanwhile. */
    private synchronized void admitted(Admission a, Throwable e, Answering answering) {
        if (askLater != null) {
            askLater.cancel(false);
            askLater = null;
        }
        decided(a, e, answering);
        held.release(this::onNext);
    }

    private void decided(Admission a, Throwable e, Answering answering) {
        try {
            if (e != null) {
                throw e instanceof RuntimeException re ? re : new IllegalStateException(e);
            }
            if (closed) {
                // Envoy gave up (timeout, reset) before it had the answer: nothing went upstream
                if (a instanceof Forward f) {
                    record.forwarded(f);
                    record.meter(f.meter().withdraw());
                }
                record.end("abandoned");
                return;
            }
            if (localReply) {
                // Envoy already answered the client itself: nothing goes upstream, the body's answer
                // only lets Envoy's filter finish its pending call
                if (a instanceof Forward f) {
                    record.meter(f.meter().withdraw());
                }
                end(answering == Answering.REQUEST_HEADERS ? Answers.continueRequestHeaders()
                        : answering == Answering.REQUEST_BODY ? Answers.continueRequestBody() : null);
                return;
            }
            if (a instanceof Reply r) {
                reply(r);
                return;
            }
            Forward forward = (Forward) a;
            record.forwarded(forward);
            response = new ResponseMetering(forward, record);
            phase = Phase.AWAITING_RESPONSE;
            if (answering != Answering.NOTHING) {
                Map<String, String> signed;
                try {
                    signed = signing.sign(forward, requestHeaders, clientBody);
                } catch (RuntimeException ex) {
                    // no credentials: nothing goes upstream, the reservation is released, 500 in the provider's shape
                    reply(gateway.signFailure(forward, ex));
                    return;
                } finally {
                    clientBody = null;
                }
                CommonResponse c = Answers.forward(forward, requestHeaders, signed);
                out.answer(answering == Answering.REQUEST_HEADERS ? Answers.requestHeaders(c) : Answers.requestBody(c));
            }
        } catch (RuntimeException ex) {
            if (!closed) {
                record.error(ex);
                fail(Status.INTERNAL.withDescription("tokenbudget: internal error: " + ex));
            }
        }
    }

    private void onResponseHeaders(HttpHeaders h) {
        if (phase == Phase.REQUEST_BODY || phase == Phase.ADMITTING) {
            // Envoy's own local reply before the request was admitted (413 over the buffer limit,
            // 408): with BUFFERED nothing went upstream; answer it as it is, nothing to meter
            int status = new EnvoyHeaders(h.getHeaders()).status();
            record.responseStatus(status);
            if (phase == Phase.REQUEST_BODY) {
                end(Answers.responseHeaders(Map.of(), false));
            } else {
                localReply = true; // the admission's answer is still owed: admitted() ends the stream
                out.answer(Answers.responseHeaders(Map.of(), false));
            }
            return;
        }
        expect(Phase.AWAITING_RESPONSE, "response_headers");
        phase = Phase.RESPONSE_BODY;
        answer(response.headers(h, announced));
    }

    private void onResponseBody(HttpBody b) {
        expect(Phase.RESPONSE_BODY, "response_body");
        answer(response.body(b));
    }

    private void onResponseTrailers() {
        expect(Phase.RESPONSE_BODY, "response_trailers");
        end(response.trailers());
    }

    private void answer(ResponseMetering.Step step) {
        if (step.last()) {
            end(step.answer());
        } else {
            out.answer(step.answer());
        }
    }

    /** Envoy half-closed: the HTTP stream is over. Whatever is not settled yet is aborted. */
    @Override
    public synchronized void onCompleted() {
        if (held.holdEnd(this::onCompleted)) {
            return;
        }
        abortMeter();
        boolean admitting = phase == Phase.ADMITTING;
        if (!closed) {
            closed = true;
            phase = Phase.DONE;
            out.complete();
        }
        if (admitting) {
            onAbandoned.run(); // admitted() withdraws what the admission took, then ends the record
        } else {
            record.end(out.cancelled() ? "cancelled" : "closed_by_envoy");
        }
    }

    /** Envoy reset the stream (client gone, timeout, Envoy shut down) or the server is cancelling it. */
    @Override
    public synchronized void onError(Throwable t) {
        if (held.holdEnd(() -> onError(t))) {
            return;
        }
        abortMeter();
        boolean admitting = phase == Phase.ADMITTING;
        closed = true;
        phase = Phase.DONE;
        if (admitting) {
            onAbandoned.run();
        } else {
            record.end("reset: " + Status.fromThrowable(t).getCode());
        }
    }

    private void reply(Reply r) {
        record.replied(r.status());
        end(observed ? null : Answers.immediate(r));
    }

    /** Sends the last answer (if any) and closes the stream cleanly: Envoy needs nothing more from us. */
    private void end(ProcessingResponse last) {
        if (last != null) {
            out.answer(last);
        }
        closed = true;
        phase = Phase.DONE;
        out.complete();
        record.end("done");
    }

    private void fail(Status s) {
        abortMeter();
        closed = true;
        phase = Phase.DONE;
        record.failed(s);
        out.fail(s);
        record.end("failed");
    }

    private void abortMeter() {
        if (response != null) {
            response.abort();
        }
    }

    private void expect(Phase p, String message) {
        if (phase != p) {
            throw ProtocolViolation.outOfOrder(message, phase.name());
        }
    }
}
