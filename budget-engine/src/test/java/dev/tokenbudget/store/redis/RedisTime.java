package dev.tokenbudget.store.redis;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;

/** Waits on a Redis server's own clock (the clock its leases run on). */
final class RedisTime {

    private RedisTime() {
    }

    /** Returns once the server's TIME has moved on by more than {@code d}; polls, bounded. */
    static void waitFor(int port, Duration d) {
        try {
            long target = RedisTestServer.serverMillis(port) + d.toMillis() + 1;
            for (int i = 0; i < 10_000; i++) {
                if (RedisTestServer.serverMillis(port) >= target) {
                    return;
                }
                Thread.sleep(5);
            }
            throw new IllegalStateException("the clock of Redis on port " + port + " did not advance by " + d);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
