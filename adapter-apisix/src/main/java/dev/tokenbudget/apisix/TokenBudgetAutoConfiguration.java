package dev.tokenbudget.apisix;

import dev.tokenbudget.cloudauth.AwsSigV4Signer;
import dev.tokenbudget.cloudauth.GoogleAccessToken;
import dev.tokenbudget.gateway.UpstreamSigner;
import dev.tokenbudget.provider.Provider;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

import java.util.EnumMap;
import java.util.Map;

/**
 * Registers the TokenBudget plugin filters with the APISIX plugin runner. Listed in
 * {@code META-INF/spring.factories} (Spring Boot 2, runner 0.4/0.5) and in
 * {@code META-INF/spring/...AutoConfiguration.imports} (Spring Boot 3), so adding the jar to the
 * runner's classpath is all it takes.
 */
@Configuration(proxyBeanMethods = false)
public class TokenBudgetAutoConfiguration {

    /**
     * The shared plugin state. Each setting is a system property on the runner's command line (or
     * the same name in the runner's own configuration, or its environment variable, e.g.
     * {@code TOKENBUDGET_APISIX_SETTLE_PORT}): {@code tokenbudget.apisix.correlation-var} names the
     * nginx variable that identifies a request; {@code tokenbudget.apisix.admin-port} serves the
     * admin API and dashboard on 127.0.0.1; {@code tokenbudget.apisix.settle-port} the endpoint
     * the routes' http-logger posts to, on 127.0.0.1, behind {@code TOKENBUDGET_SETTLE_SECRET}
     * (both off by default); {@code tokenbudget.apisix.bedrock-signing-region} SigV4-signs Bedrock
     * requests with the AWS SDK's default credential chain and
     * {@code tokenbudget.apisix.vertex-application-default-credentials} authorises Vertex AI requests
     * with Google's Application Default Credentials (both replace the provider's {@code api_key_env}).
     */
    @Bean(destroyMethod = "close")
    public TokenBudgetPlugin tokenBudgetPlugin(
            @Value("${tokenbudget.apisix.correlation-var:" + TokenBudgetPlugin.DEFAULT_CORRELATION_VAR + "}")
            String correlationVar,
            @Value("${tokenbudget.apisix.admin-port:-1}") int adminPort,
            @Value("${tokenbudget.apisix.settle-port:-1}") int settlePort,
            @Value("${tokenbudget.apisix.bedrock-signing-region:}") String bedrockRegion,
            @Value("${tokenbudget.apisix.vertex-application-default-credentials:false}") boolean vertexAdc,
            RewriteExtras extras) {
        Map<Provider, UpstreamSigner> signers = new EnumMap<>(Provider.class);
        if (!bedrockRegion.isBlank()) {
            signers.put(Provider.BEDROCK, AwsSigV4Signer.defaultChain(bedrockRegion.trim()));
        }
        if (vertexAdc) {
            signers.put(Provider.VERTEX, GoogleAccessToken.applicationDefault());
        }
        return new TokenBudgetPlugin(correlationVar, adminPort, settlePort, System.getenv("TOKENBUDGET_SETTLE_SECRET"),
                signers, extras);
    }

    /**
     * Extends the runner's server so that admitted requests go upstream with a rewritten body and
     * reach clients with the decision headers; {@code tokenbudget.apisix.body-rewrite=false} turns
     * it off. Static: it changes bean definitions before any bean exists.
     */
    @Bean
    public static RunnerExtension tokenBudgetRunnerExtension() {
        return new RunnerExtension();
    }

    /** What the plugin adds to the runner's responses, and whether the runner sends it. */
    @Bean
    public RewriteExtras tokenBudgetRewriteExtras() {
        return new RewriteExtras();
    }

    /** {@code TokenBudget}, for a route's ext-plugin-pre-req. */
    @Bean
    public TokenBudgetFilter tokenBudgetFilter(TokenBudgetPlugin plugin) {
        return new TokenBudgetFilter(plugin);
    }

    @Bean
    public TokenBudgetConfWatcher tokenBudgetConfWatcher(TokenBudgetPlugin plugin) {
        return new TokenBudgetConfWatcher(plugin);
    }
}
