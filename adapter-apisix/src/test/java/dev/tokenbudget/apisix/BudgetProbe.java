package dev.tokenbudget.apisix;

import dev.tokenbudget.engine.BudgetEngine;
import dev.tokenbudget.fake.FakeProvider;
import dev.tokenbudget.fake.ProviderTally;
import dev.tokenbudget.store.TokenCounts;
import dev.tokenbudget.testing.Poll;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What the real-APISIX tests read of a budget through the engine the plugin runner shares: the
 * first window's used and reserved tokens, and what one request charged against what the provider
 * reported for it.
 */
final class BudgetProbe {

    /** One request of a test, run while the probe watches. */
    @FunctionalInterface
    interface Step {
        void run() throws Exception;
    }

    /** What one request charged against what the provider reported for it. */
    record Settled(TokenCounts charged, long reportedInput, long reportedOutput) {
        void assertExact() {
            assertThat(reportedOutput).isPositive();
            assertThat(charged).isEqualTo(TokenCounts.of(reportedInput, reportedOutput));
        }
    }

    private final BudgetEngine engine;

    BudgetProbe(BudgetEngine engine) {
        this.engine = engine;
    }

    TokenCounts used(String budget) {
        return engine.status(budget).orElseThrow().windows().get(0).used();
    }

    TokenCounts reserved(String budget) {
        return engine.status(budget).orElseThrow().windows().get(0).reserved();
    }

    /**
     * Runs one request and waits until its settlement has landed in {@code budget} and
     * {@code upstream} has counted the exchange: the fake counts it once its handler returns, which
     * can be after the client (and the settle) already had the last byte.
     */
    Settled settled(String budget, FakeProvider upstream, Step request) throws Exception {
        TokenCounts before = used(budget);
        ProviderTally tallyBefore = upstream.tally();
        request.run();
        Poll.await("the request on " + budget + " to be settled", Duration.ofSeconds(30), Duration.ofMillis(20),
                () -> reserved(budget).equals(TokenCounts.ZERO) && !used(budget).equals(before)
                        && upstream.tally().completed() > tallyBefore.completed());
        ProviderTally after = upstream.tally();
        return new Settled(minus(used(budget), before), after.inputTokens() - tallyBefore.inputTokens(),
                after.outputTokens() - tallyBefore.outputTokens());
    }

    static TokenCounts minus(TokenCounts a, TokenCounts b) {
        return TokenCounts.of(a.input() - b.input(), a.output() - b.output());
    }

    static int freePort() {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
