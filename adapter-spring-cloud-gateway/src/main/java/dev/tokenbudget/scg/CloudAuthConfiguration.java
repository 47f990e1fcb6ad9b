package dev.tokenbudget.scg;

import dev.tokenbudget.cloudauth.AwsSigV4Signer;
import dev.tokenbudget.cloudauth.GoogleAccessToken;
import dev.tokenbudget.provider.Provider;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * Upstream signers from the properties, when dev.tokenbudget:cloud-auth is on the classpath:
 * {@code tokenbudget.bedrock-signing-region} (SigV4, default AWS credential chain) and
 * {@code tokenbudget.vertex-credentials-file} or {@code tokenbudget.vertex-application-default-credentials}
 * (Google access tokens).
 */
@Configuration(proxyBeanMethods = false)
@ConditionalOnClass(name = "dev.tokenbudget.cloudauth.AwsSigV4Signer")
class CloudAuthConfiguration {

    @Bean
    GatewayOptionsCustomizer tokenBudgetCloudSigners(TokenBudgetProperties properties) {
        return options -> {
            String region = properties.getBedrockSigningRegion();
            if (region != null && !region.isBlank()) {
                options.upstreamSigner(Provider.BEDROCK, AwsSigV4Signer.defaultChain(region.trim()));
            }
            String file = properties.getVertexCredentialsFile();
            if (file != null && !file.isBlank()) {
                options.upstreamSigner(Provider.VERTEX, GoogleAccessToken.fromFile(java.nio.file.Path.of(file.trim())));
            } else if (properties.isVertexApplicationDefaultCredentials()) {
                options.upstreamSigner(Provider.VERTEX, GoogleAccessToken.applicationDefault());
            }
        };
    }
}
