package dev.tokenbudget.alert;

import dev.tokenbudget.alert.internal.MinPercentSink;
import dev.tokenbudget.alert.sink.EmailSink;
import dev.tokenbudget.alert.sink.PagerDutySink;
import dev.tokenbudget.alert.sink.SlackSink;
import dev.tokenbudget.alert.sink.WebhookSink;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;

/** Builds the configured sinks, reading their secrets from the environment. */
public final class AlertSinks {

    private AlertSinks() {
    }

    /**
     * The sinks of {@code config}; {@code env} looks up environment variables (System::getenv).
     *
     * @throws IllegalStateException naming the sink and the variable when a variable is unset or
     *                               unusable (never its value)
     */
    public static List<AlertSink> create(AlertConfig config, UnaryOperator<String> env) {
        List<AlertSink> out = new ArrayList<>();
        Duration timeout = config.delivery().timeout();
        for (AlertConfig.SinkConfig c : config.sinks()) {
            AlertSink s;
            if (c instanceof AlertConfig.Slack sl) {
                s = new SlackSink(sl.name(), url(c, sl.webhookUrlEnv(), env), timeout);
            } else if (c instanceof AlertConfig.PagerDuty pd) {
                s = new PagerDutySink(pd.name(), pd.url() != null ? pd.url() : PagerDutySink.EVENTS_V2,
                        secret(c, pd.routingKeyEnv(), env), timeout);
            } else if (c instanceof AlertConfig.Webhook wh) {
                s = new WebhookSink(wh.name(), wh.url() != null ? wh.url() : url(c, wh.urlEnv(), env),
                        secret(c, wh.secretEnv(), env).getBytes(StandardCharsets.UTF_8), timeout);
            } else {
                AlertConfig.Email em = (AlertConfig.Email) c;
                s = new EmailSink(em.name(), new EmailSink.Settings(em.host(), em.port(), em.startTls(), em.ssl(),
                        em.username(), em.passwordEnv() == null ? null : secret(c, em.passwordEnv(), env), em.from(),
                        em.to(), timeout));
            }
            out.add(c.minPercent() > 0 ? new MinPercentSink(s, c.minPercent()) : s);
        }
        return out;
    }

    private static String secret(AlertConfig.SinkConfig c, String var, UnaryOperator<String> env) {
        String v = env.apply(var);
        if (v == null || v.isBlank()) {
            throw new IllegalStateException("alert sink '" + c.name() + "': environment variable " + var
                    + " is not set");
        }
        return v.trim();
    }

    private static URI url(AlertConfig.SinkConfig c, String var, UnaryOperator<String> env) {
        String v = secret(c, var, env);
        try {
            URI u = URI.create(v);
            if (u.getHost() == null || !("https".equals(u.getScheme()) || "http".equals(u.getScheme()))) {
                throw new IllegalArgumentException("not an http(s) URL");
            }
            return u;
        } catch (IllegalArgumentException e) {
            // the value is a secret: say which variable is wrong, not what it holds
            throw new IllegalStateException("alert sink '" + c.name() + "': environment variable " + var
                    + " does not hold an http(s) URL", e);
        }
    }
}
