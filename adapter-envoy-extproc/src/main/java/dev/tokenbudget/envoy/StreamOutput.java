package dev.tokenbudget.envoy;

import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingResponse;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;

/**
 * What the processor sends Envoy on one stream: answers, then a clean close or an error. Nothing
 * is sent once the call was cancelled (Envoy reset it, the server drains), and nothing but the
 * close in observability mode, where Envoy reads no answer. Callers serialise their calls (the
 * stream's lock): gRPC's observer is not thread-safe, and an admission may answer from another
 * thread than the stream's callbacks.
 */
final class StreamOutput {

    private final ServerCallStreamObserver<ProcessingResponse> out;
    private volatile boolean cancelled;
    private boolean observed;

    StreamOutput(ServerCallStreamObserver<ProcessingResponse> out) {
        this.out = out;
        // with a handler, a late onNext after a reset is dropped instead of throwing
        out.setOnCancelHandler(() -> cancelled = true);
    }

    /** Envoy's filter runs in observability mode: it sends messages and reads no answer. */
    void observed(boolean on) {
        observed = on;
    }

    boolean cancelled() {
        return cancelled;
    }

    void answer(ProcessingResponse r) {
        if (!observed && !cancelled) {
            out.onNext(r);
        }
    }

    /** Closes the stream cleanly. */
    void complete() {
        if (!cancelled) {
            try {
                out.onCompleted();
            } catch (RuntimeException ignored) {
                // the call ended meanwhile
            }
        }
    }

    /** Ends the stream with a gRPC error. */
    void fail(Status s) {
        if (!cancelled) {
            try {
                out.onError(s.asRuntimeException());
            } catch (RuntimeException ignored) {
                // the call ended meanwhile
            }
        }
    }
}
