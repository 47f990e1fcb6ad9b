package dev.tokenbudget.console.admin;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class AdminTokenTest {

    @Test
    void usesTheEnvironmentsTokenWithoutPrintingIt() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        String t = AdminToken.fromEnvironmentOrGenerate(Map.of(AdminToken.ENV, "0123456789abcdef-env"),
                new PrintStream(out, true, StandardCharsets.UTF_8));
        assertThat(t).isEqualTo("0123456789abcdef-env");
        assertThat(out.toString(StandardCharsets.UTF_8)).isEmpty();
    }

    @Test
    void generatesAndPrintsATokenWhenTheEnvironmentHasNone() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        String t = AdminToken.fromEnvironmentOrGenerate(Map.of(), new PrintStream(out, true, StandardCharsets.UTF_8));
        assertThat(t).matches("[A-Za-z0-9_-]{43}");
        assertThat(out.toString(StandardCharsets.UTF_8)).isEqualTo("TOKENBUDGET_ADMIN_TOKEN=" + t + System.lineSeparator());
        assertThat(AdminToken.generate()).isNotEqualTo(t);
    }

    @Test
    void refusesAShortTokenEvenFromTheEnvironment() {
        assertThatThrownBy(() -> AdminToken.fromEnvironmentOrGenerate(Map.of(AdminToken.ENV, "secret"), System.out))
                .hasMessage("TOKENBUDGET_ADMIN_TOKEN must be at least 16 characters, was 6");
        assertThatThrownBy(() -> AdminToken.of(" 0123456789abcdef ")).hasMessageContaining("whitespace");
    }

    @Test
    void acceptsOnlyTheExactBearerToken() {
        AdminToken t = AdminToken.of("0123456789abcdef");
        assertThat(t.accepts("Bearer 0123456789abcdef")).isTrue();
        assertThat(t.accepts("bearer 0123456789abcdef")).isTrue();
        assertThat(t.accepts("Bearer 0123456789abcdeF")).isFalse();
        assertThat(t.accepts("Bearer 0123456789abcde")).isFalse();
        assertThat(t.accepts("Bearer 0123456789abcdef0")).isFalse();
        assertThat(t.accepts("0123456789abcdef")).isFalse();
        assertThat(t.accepts("Basic 0123456789abcdef")).isFalse();
        assertThat(t.accepts("Bearer ")).isFalse();
        assertThat(t.accepts(null)).isFalse();
        assertThat(t.toString()).doesNotContain("0123");
    }
}
