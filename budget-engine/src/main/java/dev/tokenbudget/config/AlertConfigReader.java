package dev.tokenbudget.config;

import dev.tokenbudget.alert.AlertConfig;
import dev.tokenbudget.alert.sink.EmailSink;

import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/** Reads the {@code alerts:} section into an {@link AlertConfig}, reporting errors by path. */
final class AlertConfigReader {

    private static final Set<String> ALERTS = Set.of("thresholds", "predictive", "evaluate_every", "budgets",
            "delivery", "sinks");
    private static final Set<String> PREDICTIVE = Set.of("enabled", "lead", "min_history_days");
    private static final Set<String> DELIVERY = Set.of("queue_size", "max_attempts", "initial_backoff", "max_backoff",
            "timeout");
    private static final Set<String> SLACK = Set.of("type", "name", "min_percent", "webhook_url_env");
    private static final Set<String> PAGERDUTY = Set.of("type", "name", "min_percent", "routing_key_env", "url");
    private static final Set<String> WEBHOOK = Set.of("type", "name", "min_percent", "url", "url_env", "secret_env");
    private static final Set<String> EMAIL = Set.of("type", "name", "min_percent", "host", "port", "starttls", "ssl",
            "username", "password_env", "from", "to");
    private static final Pattern ENV = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");
    private static final Pattern EMAIL_ADDRESS = Pattern.compile("[^@\\s]+@[^@\\s]+");

    private AlertConfigReader() {
    }

    static AlertConfig read(ConfigNode n, Set<String> budgetIds) {
        if (!n.expectObject(ALERTS)) {
            return AlertConfig.DEFAULTS;
        }
        boolean thresholds = n.get("thresholds").bool(true);
        ConfigNode p = n.get("predictive");
        p.expectObject(PREDICTIVE);
        Duration lead = positive(p.get("lead"), null);
        AlertConfig.Predictive predictive = new AlertConfig.Predictive(p.get("enabled").bool(true), lead,
                p.get("min_history_days").integer(3, 0, 90));
        Duration every = positive(n.get("evaluate_every"), AlertConfig.DEFAULT_EVALUATE_EVERY);
        Set<String> budgets = new LinkedHashSet<>();
        for (ConfigNode b : n.get("budgets").list()) {
            String id = b.requiredString();
            if (id != null && !budgetIds.contains(id)) {
                b.error("unknown budget '" + id + "'");
            } else if (id != null) {
                budgets.add(id);
            }
        }
        AlertConfig.Delivery delivery = delivery(n.get("delivery"));
        List<AlertConfig.SinkConfig> sinks = new ArrayList<>();
        Set<String> names = new HashSet<>();
        for (ConfigNode s : n.get("sinks").list()) {
            AlertConfig.SinkConfig c = sink(s);
            if (c != null && !names.add(c.name())) {
                s.get("name").error("a second sink named '" + c.name() + "'; give one a distinct name");
            } else if (c != null) {
                sinks.add(c);
            }
        }
        return new AlertConfig(thresholds, predictive, every, budgets, delivery, sinks);
    }

    private static AlertConfig.Delivery delivery(ConfigNode n) {
        AlertConfig.Delivery d = AlertConfig.Delivery.DEFAULTS;
        if (!n.expectObject(DELIVERY)) {
            return d;
        }
        Duration initial = positive(n.get("initial_backoff"), d.initialBackoff());
        Duration max = positive(n.get("max_backoff"), d.maxBackoff());
        if (max.compareTo(initial) < 0) {
            n.get("max_backoff").error("must be at least initial_backoff (" + initial + "), was " + max);
        }
        return new AlertConfig.Delivery(n.get("queue_size").integer(d.queueSize(), 1, 1_000_000),
                n.get("max_attempts").integer(d.maxAttempts(), 1, 100), initial, max,
                positive(n.get("timeout"), d.timeout()));
    }

    private static AlertConfig.SinkConfig sink(ConfigNode s) {
        String type = s.get("type").requiredString();
        if (type == null) {
            return null;
        }
        Set<String> allowed = switch (type) {
            case "slack" -> SLACK;
            case "pagerduty" -> PAGERDUTY;
            case "webhook" -> WEBHOOK;
            case "email" -> EMAIL;
            default -> null;
        };
        if (allowed == null) {
            s.get("type").error("must be slack, pagerduty, webhook or email, was '" + type + "'");
            return null;
        }
        s.expectObject(allowed);
        String name = s.get("name").string(type);
        if (!ConfigLoader.ID.matcher(name).matches()) {
            s.get("name").error("must be 1-64 of A-Z a-z 0-9 . _ -, was '" + name + "'");
        }
        int min = s.get("min_percent").integer(0, 0, 100);
        return switch (type) {
            case "slack" -> new AlertConfig.Slack(name, env(s.get("webhook_url_env"), true), min);
            case "pagerduty" -> new AlertConfig.PagerDuty(name, env(s.get("routing_key_env"), true),
                    s.has("url") ? uri(s.get("url")) : null, min);
            case "webhook" -> webhook(s, name, min);
            default -> email(s, name, min);
        };
    }

    private static AlertConfig.SinkConfig webhook(ConfigNode s, String name, int min) {
        if (s.has("url") == s.has("url_env")) {
            s.error("needs exactly one of url and url_env");
        }
        return new AlertConfig.Webhook(name, s.has("url") ? uri(s.get("url")) : null, env(s.get("url_env"), false),
                env(s.get("secret_env"), true), min);
    }

    private static AlertConfig.SinkConfig email(ConfigNode s, String name, int min) {
        String host = s.get("host").requiredString();
        boolean ssl = s.get("ssl").bool(false);
        EmailSink.StartTls tls = s.get("starttls").enumValue(EmailSink.StartTls.class,
                ssl ? EmailSink.StartTls.NONE : EmailSink.StartTls.REQUIRED, x -> x);
        int port = s.get("port").integer(ssl ? 465 : 587, 1, 65_535);
        String username = s.get("username").string(null);
        String passwordEnv = env(s.get("password_env"), false);
        if (username != null && passwordEnv == null) {
            s.get("password_env").error("is required with a username (the password comes from the environment)");
        }
        String from = address(s.get("from"));
        List<String> to = new ArrayList<>();
        for (ConfigNode t : s.get("to").list()) {
            String a = address(t);
            if (a != null) {
                to.add(a);
            }
        }
        if (to.isEmpty()) {
            s.get("to").error("needs at least one recipient address");
        }
        return new AlertConfig.Email(name, host, port, tls, ssl, username, passwordEnv, from, to, min);
    }

    private static String address(ConfigNode n) {
        String a = n.requiredString();
        if (a != null && !EMAIL_ADDRESS.matcher(a).matches()) {
            n.error("must be an e-mail address, was '" + a + "'");
            return null;
        }
        return a;
    }

    private static String env(ConfigNode n, boolean required) {
        String e = required ? n.requiredString() : n.string(null);
        if (e != null && !ENV.matcher(e).matches()) {
            n.error("must name an environment variable, was '" + e + "' (secrets are never written in the config)");
            return null;
        }
        return e;
    }

    private static URI uri(ConfigNode n) {
        String u = n.requiredString();
        if (u == null) {
            return null;
        }
        try {
            URI uri = new URI(u);
            if (!"https".equals(uri.getScheme()) && !"http".equals(uri.getScheme()) || uri.getHost() == null) {
                n.error("must be an http:// or https:// URL, was '" + u + "'");
                return null;
            }
            return uri;
        } catch (URISyntaxException e) {
            n.error("must be a URL, was '" + u + "'");
            return null;
        }
    }

    private static Duration positive(ConfigNode n, Duration def) {
        Duration d = n.duration(def);
        if (d != null && (d.isZero() || d.isNegative())) {
            n.error("must be > 0");
            return def;
        }
        return d;
    }
}
