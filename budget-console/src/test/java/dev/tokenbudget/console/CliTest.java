package dev.tokenbudget.console;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

class CliTest {

    private final Terminal cli = new Terminal();

    @Test
    void validatePrintsASummaryForAGoodConfig() {
        int rc = cli.run("validate", "../examples/config/tokenbudget.yaml");
        assertThat(rc).isZero();
        assertThat(cli.out()).contains("OK: 5 budgets (1 tree), 6 windows, 2 keys, store memory");
        assertThat(cli.out().lines()).hasSize(1);
    }

    @Test
    void validateListsEveryErrorWithItsPathAndFails(@TempDir Path dir) throws Exception {
        Path bad = dir.resolve("bad.yaml");
        Files.writeString(bad, """
                budgets:
                  - id: a
                    windows: [{ period: month, limits: { output: -5 } }]
                  - id: b
                    parent: nope
                    windows: [{ period: day, limits: { total: 5 } }]
                """);
        int rc = cli.run("validate", bad.toString());
        assertThat(rc).isEqualTo(1);
        assertThat(cli.err()).contains("2 errors")
                .contains("budgets[0].windows[0].limits.output: must be > 0, was -5")
                .contains("budgets[1].parent: unknown budget 'nope'");
    }

    @Test
    void validateRefusesADegradeTargetThePriceTableDoesNotKnow(@TempDir Path dir) throws Exception {
        Path bad = dir.resolve("bad.yaml");
        Files.writeString(bad, """
                budgets:
                  - id: a
                    windows: [{ period: month, limits: { total: 1M } }]
                    thresholds: [{ at: 90, policy: degrade_route }]
                    degrade: { models: { claude-opus-4-7: claude-haiku-45 } }
                """);
        assertThat(cli.run("validate", bad.toString())).isEqualTo(1);
        assertThat(cli.err()).contains("1 error").contains("budgets[0].degrade.models.claude-opus-4-7: unknown "
                + "model 'claude-haiku-45': a degrade target must be a model the price table knows (did you mean "
                + "'claude-haiku-4-5'");
    }

    @Test
    void validateNamesAMissingFile() {
        assertThat(cli.run("validate", "does-not-exist.yaml")).isEqualTo(1);
        assertThat(cli.err()).contains("cannot read does-not-exist.yaml");
    }

    @Test
    void hashKeyPrintsTheSha256() {
        assertThat(cli.run("hash-key", "sk-tb-support-example")).isZero();
        assertThat(cli.out().trim())
                .isEqualTo("ac4caabd955cd62639dabe5992b8d2feffbcd314ae37a843a1a66a8c0f0d7da3");
    }

    @Test
    void helpListsTheCommands() {
        assertThat(cli.run("--help")).isZero();
        assertThat(cli.out()).contains("validate").contains("hash-key");
    }
}
