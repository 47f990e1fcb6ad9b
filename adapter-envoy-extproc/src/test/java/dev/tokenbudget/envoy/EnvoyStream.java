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
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongSupplier;

/**
 * One ext_proc stream as Envoy's filter drives it: send a message, wait for the one answer the
 * protocol requires; half-close and reset when the HTTP stream ends. Every message sent and every
 * answer received goes through {@link EnvoyFilter}, which refuses what Envoy would not send
 * and applies each answer as Envoy does (a timer override is applied and the real answer awaited).
 * Waits are bounded so that a missing answer fails the test instead of hanging it.
 */
final class EnvoyStream implements AutoCloseable {

    private static final long WAIT_SECONDS = 20;

    /** An answer and when it arrived, on the clock Envoy's timers run on. */
    private record Arrival(ProcessingResponse answer, long at) {
    }

    private final BlockingQueue<Arrival> answers = new LinkedBlockingQueue<>();
    private final AtomicInteger arrived = new AtomicInteger();
    private final LongSupplier nanos;
    private final CompletableFuture<Status> closed = new CompletableFuture<>();
    private volatile ClientCallStreamObserver<ProcessingRequest> requests;
    private final EnvoyFilter envoy;

    /** A stream whose timers never run out (a processor on another clock). */
    EnvoyStream(Channel channel, EnvoyFilter envoy) {
        this(channel, envoy, () -> 0L);
    }

    /** A stream timed by {@code nanos}: each answer is stamped when it arrives, as Envoy's timer sees it. */
    EnvoyStream(Channel channel, EnvoyFilter envoy, LongSupplier nanos) {
        this.envoy = envoy;
        this.nanos = nanos;
        ExternalProcessorGrpc.newStub(channel).process(new ClientResponseObserver<ProcessingRequest,
                ProcessingResponse>() {
            @Override
            public void beforeStart(ClientCallStreamObserver<ProcessingRequest> r) {
                requests = r;
            }

            @Override
            public void onNext(ProcessingResponse value) {
                // counted before it is handed over: a reader that took it sees it counted
                arrived.incrementAndGet();
                answers.add(new Arrival(value, nanos.getAsLong()));
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
    EnvoyFilter envoy() {
        return envoy;
    }

    /** The next answer that Envoy acts on; a message timer override is applied on the way. */
    ProcessingResponse next() {
        for (int i = 0; i < 3; i++) {
            Arrival a = take();
            if (envoy.answered(a.answer(), a.at()) != EnvoyRules.Outcome.TIMER_RESTARTED) {
                return a.answer();
            }
        }
        throw new AssertionError("more timer overrides than Envoy applies to one message");
    }

    /** The next message from the processor, not applied by the Envoy rules. */
    ProcessingResponse nextUnchecked() {
        return take().answer();
    }

    /** How many messages the processor has sent so far. */
    int arrivals() {
        return arrived.get();
    }

    private Arrival take() {
        try {
            // bounded: a stream the processor already ended fails at once instead of after the wait
            Arrival a = null;
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_SECONDS);
            while (a == null && System.nanoTime() < until) {
                a = answers.poll(closed.isDone() ? 0 : 50, TimeUnit.MILLISECONDS);
                if (a == null && closed.isDone()) {
                    a = answers.poll();
                    break;
                }
            }
            if (a == null) {
                throw new AssertionError("no answer from the processor (waited up to " + WAIT_SECONDS + " s); stream "
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
