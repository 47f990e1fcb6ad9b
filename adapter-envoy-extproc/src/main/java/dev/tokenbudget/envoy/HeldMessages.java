package dev.tokenbudget.envoy;

import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingRequest;

import java.util.ArrayDeque;
import java.util.function.Consumer;

/**
 * The messages of an observability-mode stream that arrive while its admission is still being
 * decided. In that mode Envoy waits for no answer (ext_proc.cc sends each message and goes on), so
 * the response headers and body, and the stream's end, may come before the store has answered the
 * reservation; they are kept here in order and handled once the admission is in, so that the
 * meter sees the whole response and the stream's end comes last. Not thread-safe: the stream's
 * lock guards it.
 */
final class HeldMessages {

    /** Created on the first message held: most streams (not in observability mode) hold none. */
    private ArrayDeque<ProcessingRequest> held;
    private Runnable end;
    private boolean holding;

    /** From now on, messages are held: an admission is on its way. */
    void start() {
        holding = true;
    }

    boolean holding() {
        return holding;
    }

    void hold(ProcessingRequest r) {
        if (held == null) {
            held = new ArrayDeque<>();
        }
        held.add(r);
    }

    /**
     * While messages are held, keeps the stream's end (Envoy's half-close or reset) until they are
     * handled and returns true; else returns false: the end is the caller's to handle now.
     */
    boolean holdEnd(Runnable end) {
        if (holding && this.end == null) {
            this.end = end;
        }
        return holding;
    }

    /** The admission is in: hands over the held messages in order, then the end, if it came. */
    void release(Consumer<ProcessingRequest> handle) {
        holding = false;
        for (ProcessingRequest r = held == null ? null : held.poll(); r != null; r = held.poll()) {
            handle.accept(r);
        }
        Runnable e = end;
        end = null;
        if (e != null) {
            e.run();
        }
    }
}
