package dev.tokenbudget.alert.sink;

import com.icegreen.greenmail.configuration.GreenMailConfiguration;
import com.icegreen.greenmail.junit5.GreenMailExtension;
import com.icegreen.greenmail.util.GreenMailUtil;
import com.icegreen.greenmail.util.ServerSetupTest;
import dev.tokenbudget.alert.Alerts;
import dev.tokenbudget.alert.SinkResult;
import jakarta.mail.Message;
import jakarta.mail.internet.MimeMessage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The e-mail sink against GreenMail, a real SMTP server on loopback. */
class EmailSinkTest {

    @RegisterExtension
    static final GreenMailExtension SMTP = new GreenMailExtension(ServerSetupTest.SMTP.dynamicPort())
            .withConfiguration(GreenMailConfiguration.aConfig().withUser("alerts@example.com", "alerts", "s3cret"))
            .withPerMethodLifecycle(true);

    private static EmailSink sink(EmailSink.StartTls tls, String user, String password) {
        return new EmailSink("email", new EmailSink.Settings("127.0.0.1", SMTP.getSmtp().getPort(), tls, false, user,
                password, "tokenbudget@example.com", List.of("finops@example.com", "oncall@example.com"),
                Duration.ofSeconds(5)));
    }

    @Test
    void mailsTheAlertToEveryRecipientWithAuthentication() throws Exception {
        assertThat(sink(EmailSink.StartTls.OPTIONAL, "alerts", "s3cret").export(Alerts.threshold(90)))
                .isEqualTo(SinkResult.SUCCESS);
        MimeMessage[] got = SMTP.getReceivedMessages();
        assertThat(got).hasSize(2); // one per recipient
        MimeMessage m = got[0];
        assertThat(m.getSubject()).isEqualTo("[tokenbudget] Budget support reached 90% of its total limit in "
                + "month:2026-11");
        assertThat(m.getFrom()[0].toString()).isEqualTo("tokenbudget@example.com");
        assertThat(m.getRecipients(Message.RecipientType.TO)).extracting(Object::toString)
                .containsExactly("finops@example.com", "oncall@example.com");
        assertThat(m.getHeader("X-TokenBudget-Alert-Id")[0]).isEqualTo(Alerts.threshold(90).id());
        String body = GreenMailUtil.getBody(m);
        assertThat(body).contains("Used:        45.00M of 50.00M total tokens (90.0%)")
                .contains("Projected:   61.00M (80%: 57.00M to 65.00M; 95%: 55.00M to 68.00M)")
                .contains("Limit reached: 2026-11-23 08:00 UTC")
                .contains("Trend:       +13% against the previous 7 days")
                .contains("Raise the limit or cut usage.");
    }

    @Test
    void aWrongPasswordIsFinal() {
        assertThat(sink(EmailSink.StartTls.OPTIONAL, "alerts", "wrong").export(Alerts.threshold(90)))
                .isEqualTo(SinkResult.FAILED);
        assertThat(SMTP.getReceivedMessages()).isEmpty();
    }

    @Test
    void requiredStartTlsRefusesAServerWithoutIt() {
        // GreenMail's plain SMTP does not offer STARTTLS: with it required, nothing goes out in clear
        SinkResult r = sink(EmailSink.StartTls.REQUIRED, "alerts", "s3cret").export(Alerts.threshold(90));
        assertThat(r).isNotEqualTo(SinkResult.SUCCESS);
        assertThat(SMTP.getReceivedMessages()).isEmpty();
    }

    @Test
    void resolutionsAreNotMailed() {
        assertThat(sink(EmailSink.StartTls.NONE, null, null).export(Alerts.resolved())).isEqualTo(SinkResult.SUCCESS);
        assertThat(SMTP.getReceivedMessages()).isEmpty();
    }
}
