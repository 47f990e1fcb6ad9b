package dev.tokenbudget.alert.sink;

import dev.tokenbudget.alert.Alert;
import dev.tokenbudget.alert.AlertSink;
import dev.tokenbudget.alert.SinkResult;
import jakarta.mail.AuthenticationFailedException;
import jakarta.mail.Message;
import jakarta.mail.MessagingException;
import jakarta.mail.SendFailedException;
import jakarta.mail.Session;
import jakarta.mail.Transport;
import jakarta.mail.internet.AddressException;
import jakarta.mail.internet.InternetAddress;
import jakarta.mail.internet.MimeMessage;
import org.eclipse.angus.mail.smtp.SMTPSendFailedException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.Date;
import java.util.List;
import java.util.Objects;
import java.util.Properties;

/**
 * Sends alerts as plain-text e-mail over SMTP (Jakarta Mail, Eclipse Angus), with STARTTLS off,
 * opportunistic or required, or implicit TLS, and optional authentication. Resolutions are not
 * mailed. Bad addresses, refused authentication and permanent (5xx) SMTP replies are final;
 * everything else is retried.
 */
public final class EmailSink implements AlertSink {

    private static final Logger LOG = LoggerFactory.getLogger(EmailSink.class);

    /** Whether to upgrade a plain SMTP connection to TLS. */
    public enum StartTls {
        /** Never (a local relay). */
        NONE,
        /** When the server offers it. */
        OPTIONAL,
        /** Always; fail if the server does not offer it. */
        REQUIRED
    }

    /**
     * SMTP settings.
     *
     * @param ssl      implicit TLS from the first byte (port 465) instead of STARTTLS
     * @param username null for no authentication
     * @param password the password: read from the environment, never logged
     */
    public record Settings(String host, int port, StartTls startTls, boolean ssl, String username, String password,
                           String from, List<String> to, Duration timeout) {
        public Settings {
            Objects.requireNonNull(host, "host");
            Objects.requireNonNull(from, "from");
            to = List.copyOf(to);
            if (to.isEmpty()) {
                throw new IllegalArgumentException("an e-mail sink needs at least one recipient");
            }
        }

        @Override
        public String toString() {
            return "Settings[" + host + ":" + port + " starttls=" + startTls + " ssl=" + ssl + " user=" + username
                    + " to=" + to + "]";
        }
    }

    private final String name;
    private final Settings settings;
    private final Session session;

    public EmailSink(String name, Settings settings) {
        this.name = name;
        this.settings = settings;
        Properties p = new Properties();
        String proto = settings.ssl() ? "smtps" : "smtp";
        String ms = Long.toString(settings.timeout().toMillis());
        p.put("mail.transport.protocol", proto);
        p.put("mail." + proto + ".host", settings.host());
        p.put("mail." + proto + ".port", Integer.toString(settings.port()));
        p.put("mail." + proto + ".auth", Boolean.toString(settings.username() != null));
        p.put("mail." + proto + ".connectiontimeout", ms);
        p.put("mail." + proto + ".timeout", ms);
        p.put("mail." + proto + ".writetimeout", ms);
        p.put("mail." + proto + ".starttls.enable", Boolean.toString(settings.startTls() != StartTls.NONE));
        p.put("mail." + proto + ".starttls.required", Boolean.toString(settings.startTls() == StartTls.REQUIRED));
        p.put("mail." + proto + ".ssl.checkserveridentity", "true");
        this.session = Session.getInstance(p);
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public SinkResult export(Alert alert) {
        if (alert.kind() == Alert.Kind.RESOLVED) {
            return SinkResult.SUCCESS;
        }
        try {
            MimeMessage m = new MimeMessage(session);
            m.setFrom(new InternetAddress(settings.from(), true));
            for (String to : settings.to()) {
                m.addRecipient(Message.RecipientType.TO, new InternetAddress(to, true));
            }
            m.setSubject("[tokenbudget] " + alert.summary(), "UTF-8");
            m.setSentDate(Date.from(alert.at()));
            m.setHeader("X-TokenBudget-Alert-Id", alert.id());
            m.setText(body(alert), "UTF-8");
            try (Transport t = session.getTransport()) {
                t.connect(settings.host(), settings.port(), settings.username(), settings.password());
                t.sendMessage(m, m.getAllRecipients());
            }
            return SinkResult.SUCCESS;
        } catch (AddressException | AuthenticationFailedException | SendFailedException e) {
            boolean permanent = !(e instanceof SMTPSendFailedException s) || s.getReturnCode() >= 500;
            LOG.warn("alert sink {}: {} ({})", name, e.getClass().getSimpleName(),
                    permanent ? "not retried: check the sink's configuration" : "will retry");
            return permanent ? SinkResult.FAILED : SinkResult.RETRY;
        } catch (MessagingException e) {
            LOG.warn("alert sink {}: SMTP delivery failed: {}, will retry", name, e.getClass().getSimpleName());
            return SinkResult.RETRY;
        }
    }

    /** The plain-text body. */
    public static String body(Alert a) {
        return a.summary() + ".\n\n"
                + "Budget:      " + a.budgetId() + "\n"
                + "Window:      " + a.window() + " (resets " + Format.time(a.windowEnd()) + ")\n"
                + "Used:        " + Format.used(a) + "\n"
                + "Threshold:   " + a.threshold() + "%\n"
                + "Projected:   " + Format.projection(a) + "\n"
                + "Limit reached: " + Format.exhaustion(a) + "\n"
                + "Trend:       " + Format.trend(a) + "\n\n"
                + "Recommended action:\n" + a.action() + "\n\n"
                + "-- tokenbudget, alert " + a.id() + "\n";
    }
}
