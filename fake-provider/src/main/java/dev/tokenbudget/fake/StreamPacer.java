package dev.tokenbudget.fake;

import java.time.Duration;

/**
 * Decides when the next chunk of a stream goes out. The default sleeps a fixed delay, like a model
 * generating tokens; tests install a pacer that waits for a signal, so they can observe one chunk
 * reaching the client before the next one exists, without relying on timing.
 */
@FunctionalInterface
public interface StreamPacer {

    /**
     * Called before chunk {@code index} (0-based) of a stream is written.
     *
     * @return false to break the stream here (the connection is dropped mid-response)
     */
    boolean beforeChunk(int index) throws InterruptedException;

    /** Sleeps {@code delay} before every chunk but the first. */
    static StreamPacer fixed(Duration delay) {
        long ms = delay.toMillis();
        return index -> {
            if (index > 0 && ms > 0) {
                Thread.sleep(ms);
            }
            return true;
        };
    }
}
