package dev.tokenbudget.scg;

import dev.tokenbudget.engine.BudgetEngine;
import dev.tokenbudget.gateway.BudgetGateway;
import dev.tokenbudget.store.BudgetStore;
import dev.tokenbudget.store.memory.InMemoryBudgetStore;
import dev.tokenbudget.store.redis.RedisBudgetStore;
import dev.tokenbudget.store.redis.TestRedis;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ReactiveWebApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class TokenBudgetAutoConfigurationTest {

    private final ReactiveWebApplicationContextRunner runner = new ReactiveWebApplicationContextRunner()
            .withConfiguration(AutoConfigurations.of(TokenBudgetAutoConfiguration.class));

    private static final String MINIMAL = """
            budgets:
              - id: org
                windows:
                  - period: month
                    limits: { total: 1M }
            """;

    @Test
    void withoutAnEngineConfigTheFilterExplainsWhatToSet() {
        runner.run(ctx -> {
            assertThat(ctx).hasSingleBean(TokenBudgetGatewayFilterFactory.class).doesNotHaveBean(BudgetEngine.class);
            TokenBudgetGatewayFilterFactory.Config c = new TokenBudgetGatewayFilterFactory.Config();
            c.setRouteId("openai");
            assertThatThrownBy(() -> ctx.getBean(TokenBudgetGatewayFilterFactory.class).apply(c))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("route 'openai'").hasMessageContaining("tokenbudget.config");
        });
    }

    @Test
    void anEngineConfigBringsTheEngineOnTheInMemoryStoreAndTheGatewayWithTheBodyBound(@TempDir Path dir)
            throws IOException {
        Path yaml = Files.writeString(dir.resolve("tb.yaml"), MINIMAL);
        runner.withPropertyValues("tokenbudget.config=" + yaml, "tokenbudget.max-body-size=1MB").run(ctx -> {
            assertThat(ctx).hasSingleBean(BudgetEngine.class).hasSingleBean(BudgetGateway.class)
                    .hasSingleBean(LeaseSweeper.class).hasSingleBean(dev.tokenbudget.alert.AlertService.class);
            assertThat(ctx.getBean(BudgetEngine.class).store()).isInstanceOf(InMemoryBudgetStore.class);
            assertThat(ctx.getBean(BudgetGateway.class).options().maxBodyBytes()).isEqualTo(1024 * 1024);
            assertThat(ctx.getBean(LeaseSweeper.class).isRunning()).isTrue();
        });
    }

    @Test
    void anInvalidEngineConfigFailsStartUpNamingTheFileAndTheField(@TempDir Path dir) throws IOException {
        Path yaml = Files.writeString(dir.resolve("bad.yaml"), MINIMAL.replace("1M", "-5"));
        runner.withPropertyValues("tokenbudget.config=" + yaml).run(ctx -> {
            assertThat(ctx).hasFailed();
            assertThat(ctx.getStartupFailure()).rootCause().hasMessageContaining("budgets[0].windows[0].limits.total");
            assertThat(ctx.getStartupFailure()).hasStackTraceContaining("bad.yaml");
        });
    }

    @Test
    void aMissingEngineConfigFileFailsStartUpClearly() {
        runner.withPropertyValues("tokenbudget.config=/nonexistent/tokenbudget.yaml").run(ctx -> {
            assertThat(ctx).hasFailed();
            assertThat(ctx.getStartupFailure()).hasStackTraceContaining("/nonexistent/tokenbudget.yaml does not exist");
        });
    }

    @Test
    void aRedisStoreConfigOpensTheRedisStoreWhichDecidesOnTheEventLoopWithoutBlocking(@TempDir Path dir) throws IOException {
        String prefix = TestRedis.uniquePrefix("scg-autoconfig");
        Path yaml = Files.writeString(dir.resolve("redis.yaml"), "store: { type: redis, redis: { uri: '"
                + TestRedis.uri() + "', key_prefix: " + prefix + " } }\n" + MINIMAL);
        try {
            runner.withPropertyValues("tokenbudget.config=" + yaml).run(ctx -> {
                BudgetStore store = ctx.getBean(BudgetEngine.class).store();
                assertThat(store).isInstanceOf(RedisBudgetStore.class);
                assertThat(store.capabilities()).contains(BudgetStore.Capability.BLOCKING_IO,
                        BudgetStore.Capability.ASYNC_DECISIONS);
                // reserve and settle through Lettuce's async API: no hop to boundedElastic
                assertThat(new EngineCalls(store).offloads()).isFalse();
                assertThat(ctx.getBean(BudgetEngine.class).status("org")).isPresent();
            });
        } finally {
            TestRedis.deleteKeys(prefix);
        }
    }

    @Test
    void aStoreBeanOfTheApplicationWins(@TempDir Path dir) throws IOException {
        Path yaml = Files.writeString(dir.resolve("tb.yaml"), MINIMAL);
        runner.withPropertyValues("tokenbudget.config=" + yaml).withUserConfiguration(OwnStore.class).run(ctx ->
                assertThat(ctx.getBean(BudgetEngine.class).store()).isSameAs(ctx.getBean("ownStore")));
    }

    @Test
    void anUnknownProviderNameIsRefusedWithTheValidOnes(@TempDir Path dir) throws IOException {
        Path yaml = Files.writeString(dir.resolve("tb.yaml"), MINIMAL);
        runner.withPropertyValues("tokenbudget.config=" + yaml).run(ctx -> {
            TokenBudgetGatewayFilterFactory.Config c = new TokenBudgetGatewayFilterFactory.Config().setProvider("opneai");
            assertThatThrownBy(() -> ctx.getBean(TokenBudgetGatewayFilterFactory.class).apply(c))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("'opneai'").hasMessageContaining("anthropic");
        });
    }

    @Test
    void disabledMeansNoBeansAtAll(@TempDir Path dir) throws IOException {
        Path yaml = Files.writeString(dir.resolve("tb.yaml"), MINIMAL);
        runner.withPropertyValues("tokenbudget.config=" + yaml, "tokenbudget.enabled=false").run(ctx ->
                assertThat(ctx).doesNotHaveBean(TokenBudgetGatewayFilterFactory.class)
                        .doesNotHaveBean(BudgetEngine.class));
    }

    @Configuration(proxyBeanMethods = false)
    static class OwnStore {
        @Bean
        BudgetStore ownStore() {
            return new InMemoryBudgetStore();
        }
    }
}
