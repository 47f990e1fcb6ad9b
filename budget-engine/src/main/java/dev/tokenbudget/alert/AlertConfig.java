package dev.tokenbudget.alert;

import dev.tokenbudget.alert.sink.EmailSink;

import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Set;

/**
 * The {@code alerts:} section of the engine's config (docs/alerts.md): which alerts to raise,
 * how to deliver them, and to which sinks. Secrets are never here, only the names of the
 * environment variables that hold them. Immutable; read by the config loader.
 *
 * @param thresholds    alert when a budget reaches one of its thresholds
 * @param predictive    alert early when the projection reaches the limit before the window ends
 * @param evaluateEvery how often projections are evaluated (and history sampled)
 * @param budgets       the budgets to alert on; empty for all
 * @param delivery      queueing and retries
 * @param sinks         where alerts go; none means alerts are only logged and counted
 */
public record AlertConfig(boolean thresholds, Predictive predictive, Duration evaluateEvery, Set<String> budgets,
                          Delivery delivery, List<SinkConfig> sinks) {

    public static final Duration DEFAULT_EVALUATE_EVERY = Duration.ofMinutes(5);

    /** Alerts as they are without an {@code alerts:} section: thresholds and predictions, no sinks. */
    public static final AlertConfig DEFAULTS = new AlertConfig(true, Predictive.DEFAULTS, DEFAULT_EVALUATE_EVERY,
            Set.of(), Delivery.DEFAULTS, List.of());

    public AlertConfig {
        budgets = Set.copyOf(budgets);
        sinks = List.copyOf(sinks);
    }

    /** Whether alerts about {@code budgetId} are wanted. */
    public boolean covers(String budgetId) {
        return budgets.isEmpty() || budgets.contains(budgetId);
    }

    /**
     * Predictive alerts.
     *
     * @param enabled        on or off
     * @param lead           alert only when the projected crossing is at most this far ahead; null for any
     *                       time before the window ends
     * @param minHistoryDays days of usage a budget needs before its projection may alert
     */
    public record Predictive(boolean enabled, Duration lead, int minHistoryDays) {
        public static final Predictive DEFAULTS = new Predictive(true, null, 3);
    }

    /**
     * Delivery: per-sink queue, attempts, backoff and the timeout of one attempt.
     */
    public record Delivery(int queueSize, int maxAttempts, Duration initialBackoff, Duration maxBackoff,
                           Duration timeout) {
        public static final Delivery DEFAULTS = new Delivery(1000, 6, Duration.ofSeconds(1), Duration.ofMinutes(5),
                Duration.ofSeconds(10));
    }

    /** One sink's settings; {@code minPercent} keeps alerts below that threshold away from it. */
    public sealed interface SinkConfig {
        String name();

        int minPercent();
    }

    /** A Slack incoming webhook; its URL is a secret, so it comes from an environment variable. */
    public record Slack(String name, String webhookUrlEnv, int minPercent) implements SinkConfig {
    }

    /** PagerDuty Events API v2. */
    public record PagerDuty(String name, String routingKeyEnv, URI url, int minPercent) implements SinkConfig {
    }

    /** A generic webhook, HMAC-signed with the secret from {@code secretEnv}. */
    public record Webhook(String name, URI url, String urlEnv, String secretEnv, int minPercent) implements SinkConfig {
    }

    /** E-mail over SMTP; the password comes from {@code passwordEnv}. */
    public record Email(String name, String host, int port, EmailSink.StartTls startTls, boolean ssl, String username,
                        String passwordEnv, String from, List<String> to, int minPercent) implements SinkConfig {
        public Email {
            to = List.copyOf(to);
        }
    }
}
