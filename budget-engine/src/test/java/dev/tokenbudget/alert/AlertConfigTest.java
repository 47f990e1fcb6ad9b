package dev.tokenbudget.alert;

import dev.tokenbudget.alert.sink.EmailSink;
import dev.tokenbudget.config.ConfigException;
import dev.tokenbudget.config.ConfigLoader;
import dev.tokenbudget.config.EngineConfig;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class AlertConfigTest {

    private static final String BUDGETS = """
            budgets:
              - id: support
                windows: [ { period: month, limits: { total: 1M } } ]
            """;

    @Test
    void withoutASectionAlertsUseTheDefaults() {
        EngineConfig c = ConfigLoader.parse(BUDGETS);
        assertThat(c.alerts()).isEqualTo(AlertConfig.DEFAULTS);
        assertThat(c.alerts().predictive().enabled()).isTrue();
        assertThat(c.alerts().sinks()).isEmpty();
    }

    @Test
    void readsEverySinkAndSetting() {
        EngineConfig c = ConfigLoader.parse(BUDGETS + """
                alerts:
                  thresholds: true
                  predictive: { enabled: true, lead: 7d, min_history_days: 5 }
                  evaluate_every: 1m
                  budgets: [ support ]
                  delivery: { queue_size: 50, max_attempts: 4, initial_backoff: 2s, max_backoff: 1m, timeout: 5s }
                  sinks:
                    - { type: slack, webhook_url_env: SLACK_URL }
                    - { type: pagerduty, name: pd, routing_key_env: PD_KEY, min_percent: 90 }
                    - { type: webhook, url: "https://hooks.example.com/tb", secret_env: HOOK_SECRET }
                    - type: email
                      host: smtp.example.com
                      username: alerts
                      password_env: SMTP_PASSWORD
                      from: tokenbudget@example.com
                      to: [ finops@example.com ]
                """);
        AlertConfig a = c.alerts();
        assertThat(a.predictive()).isEqualTo(new AlertConfig.Predictive(true, Duration.ofDays(7), 5));
        assertThat(a.evaluateEvery()).isEqualTo(Duration.ofMinutes(1));
        assertThat(a.budgets()).containsExactly("support");
        assertThat(a.delivery()).isEqualTo(new AlertConfig.Delivery(50, 4, Duration.ofSeconds(2),
                Duration.ofMinutes(1), Duration.ofSeconds(5)));
        assertThat(a.sinks()).containsExactly(
                new AlertConfig.Slack("slack", "SLACK_URL", 0),
                new AlertConfig.PagerDuty("pd", "PD_KEY", null, 90),
                new AlertConfig.Webhook("webhook", URI.create("https://hooks.example.com/tb"), null, "HOOK_SECRET", 0),
                new AlertConfig.Email("email", "smtp.example.com", 587, EmailSink.StartTls.REQUIRED, false, "alerts",
                        "SMTP_PASSWORD", "tokenbudget@example.com", List.of("finops@example.com"), 0));
    }

    @Test
    void reportsEveryErrorWithItsPath() {
        assertThatThrownBy(() -> ConfigLoader.parse(BUDGETS + """
                alerts:
                  predictive: { lead: soon }
                  budgets: [ nobody ]
                  sinks:
                    - { type: teams }
                    - { type: slack, webhook_url: "https://hooks.slack.com/services/secret" }
                    - { type: webhook, url: "ftp://x", secret_env: "not a var" }
                    - { type: email, host: smtp, from: nobody, to: [] }
                """))
                .isInstanceOf(ConfigException.class)
                .satisfies(e -> assertThat(((ConfigException) e).errors()).extracting(Object::toString)
                        .contains("alerts.predictive.lead: must be a duration such as 50ms, 30s, 10m, 24h or 7d, "
                                        + "was 'soon'",
                                "alerts.budgets[0]: unknown budget 'nobody'",
                                "alerts.sinks[0].type: must be slack, pagerduty, webhook or email, was 'teams'",
                                "alerts.sinks[1].webhook_url_env: is required",
                                "alerts.sinks[2].url: must be an http:// or https:// URL, was 'ftp://x'",
                                "alerts.sinks[3].from: must be an e-mail address, was 'nobody'",
                                "alerts.sinks[3].to: needs at least one recipient address")
                        .anySatisfy(s -> assertThat(s).startsWith("alerts.sinks[1].webhook_url: unknown field"))
                        .anySatisfy(s -> assertThat(s).startsWith("alerts.sinks[2].secret_env: must name an "
                                + "environment variable")));
    }

    @Test
    void secretsComeFromTheEnvironmentAndAreNeverEchoed() {
        EngineConfig c = ConfigLoader.parse(BUDGETS + """
                alerts:
                  sinks:
                    - { type: slack, webhook_url_env: SLACK_URL }
                    - { type: pagerduty, routing_key_env: PD_KEY }
                """);
        assertThatThrownBy(() -> AlertSinks.create(c.alerts(), Map.of("SLACK_URL", "https://hooks.slack.com/x")::get))
                .hasMessage("alert sink 'pagerduty': environment variable PD_KEY is not set");
        assertThatThrownBy(() -> AlertSinks.create(c.alerts(), Map.of("SLACK_URL", "xoxb-very-secret-token",
                "PD_KEY", "k")::get))
                .hasMessage("alert sink 'slack': environment variable SLACK_URL does not hold an http(s) URL")
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain("very-secret"));
        List<AlertSink> sinks = AlertSinks.create(c.alerts(), Map.of("SLACK_URL", "https://hooks.slack.com/x",
                "PD_KEY", "routing")::get);
        assertThat(sinks).extracting(AlertSink::name).containsExactly("slack", "pagerduty");
    }

    @Test
    void minPercentKeepsLowerAlertsAwayFromASink() throws Exception {
        try (LoopbackHttpServer pd = new LoopbackHttpServer().answer(202, "{}")) {
            EngineConfig c = ConfigLoader.parse(BUDGETS + """
                    alerts:
                      sinks:
                        - { type: pagerduty, routing_key_env: PD_KEY, min_percent: 90, url: "%s" }
                    """.formatted(pd.uri("/v2/enqueue")));
            AlertSink sink = AlertSinks.create(c.alerts(), Map.of("PD_KEY", "routing")::get).get(0);
            assertThat(sink.export(Alerts.threshold(75))).isEqualTo(SinkResult.SUCCESS);
            assertThat(pd.received()).isEmpty();
            assertThat(sink.export(Alerts.threshold(90))).isEqualTo(SinkResult.SUCCESS);
            assertThat(sink.export(Alerts.resolved())).isEqualTo(SinkResult.SUCCESS);
            assertThat(pd.received()).hasSize(2);
        }
    }
}
