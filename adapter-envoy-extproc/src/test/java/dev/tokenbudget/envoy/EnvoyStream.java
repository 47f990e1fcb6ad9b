package dev.tokenbudget.envoy;

import io.envoyproxy.envoy.service.ext_proc.v3.ExternalProcessorGrpc;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingRequest;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingResponse;
import io.grpc.Channel;
import io.grpc.Status;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;

import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * One ext_proc stream as Envoy's filter drives it: send a message, wait for the one answer the
 * protocol requires; half-close and reset when the HTTP stream ends. Every message sent and every
 * answer received goes through {@link EnvoyRules.Filter}, which refuses what Envoy would not send
 * and applies each answer as Envoy does (a timer override is applied and the real answer awaited).
 * Waits are bounded so that a missing answer fails the test instead of hanging it.
 */
final class EnvoyStream implements AutoCloseable {

    private static final long WAIT_SECONDS = 20;

    private final BlockingQueue<ProcessingResponse> answers = new LinkedBlockingQueue<>();
    private final CompletableFuture<Status> closed = new CompletableFuture<>();
    private volatile ClientCallStreamObserver<ProcessingRequest> requests;
    private final EnvoyRules.Filter envoy;

    EnvoyStream(Channel channel, EnvoyRules.Filter envoy) {
        this.envoy = envoy;
        ExternalProcessorGrpc.newStub(channel).process(new ClientResponseObserver<ProcessingRequest,
                ProcessingResponse>() {
            @Override
            public void beforeStart(ClientCallStreamObserver<ProcessingRequest> r) {
                requests = r;
            }

            @Override
            public void onNext(ProcessingResponse value) {
                answers.add(value);
            }

            @Override
            public void onError(Throwable t) {
                closed.complete(Status.fromThrowable(t));
            }

            @Override
            public void onCompleted() {
                closed.complete(Status.OK);
            }
        });
    }

    /** Sends {@code r} and returns the processor's answer, as Envoy applied it. */
    ProcessingResponse exchange(ProcessingRequest r) {
        send(r);
        return next();
    }

    /** Sends as Envoy would, without waiting (observability mode, or several body chunks in flight). */
    void send(ProcessingRequest r) {
        envoy.sent(r);
        requests.onNext(r);
    }

    /** Sends a message Envoy itself would never send (malformed, out of order): protocol error tests only. */
    void sendUnlikeEnvoy(ProcessingRequest r) {
        requests.onNext(r);
    }

    /** The Envoy side of this stream: headers as forwarded, route cache, local reply. */
    EnvoyRules.Filter envoy() {
        return envoy;
    }

    /** The next answer that Envoy acts on; a message timer override is applied on the way. */
    ProcessingResponse next() {
        for (int i = 0; i < 3; i++) {
            ProcessingResponse a = nextUnchecked();
            if (envoy.answered(a) != EnvoyRules.Outcome.TIMER_RESTARTED) {
                return a;
            }
        }
        throw new AssertionError("more timer overrides than Envoy applies to one message");
    }

    /** The next message from the processor, not applied by the Envoy rules. */
    ProcessingResponse nextUnchecked() {
        try {
            ProcessingResponse a = answers.poll(WAIT_SECONDS, TimeUnit.SECONDS);
            if (a == null) {
                throw new AssertionError("no answer from the processor within " + WAIT_SECONDS + " s; stream "
                        + (closed.isDone() ? "closed with " + closed.join() : "open"));
            }
            return a;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    /** Answers received but not yet taken. */
    int pendingAnswers() {
        return answers.size();
    }

    /** What Envoy does when the HTTP stream ends (filter destroyed): half-close, then reset. */
    void finish() {
        requests.onCompleted();
        requests.cancel("filter destroyed", null);
    }

    /** Half-close only. */
    void halfClose() {
        requests.onCompleted();
    }

    /** A reset without half-close: the downstream connection dropped. */
    void cancel() {
        requests.cancel("downstream reset", null);
    }

    /** How the processor ended the stream (OK when it closed cleanly). */
    Status awaitClosed() {
        try {
            return closed.get(WAIT_SECONDS, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new AssertionError("the processor did not end the stream within " + WAIT_SECONDS + " s", e);
        }
    }

    boolean isClosed() {
        return closed.isDone();
    }

    @Override
    public void close() {
        if (!closed.isDone()) {
            requests.cancel("test done", null);
        }
    }
}
