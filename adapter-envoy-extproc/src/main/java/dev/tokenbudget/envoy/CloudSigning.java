package dev.tokenbudget.envoy;

import dev.tokenbudget.cloudauth.AwsSigV4Signer;
import dev.tokenbudget.cloudauth.GoogleAccessToken;
import dev.tokenbudget.gateway.GatewayOptions;
import dev.tokenbudget.provider.Provider;

import java.net.URI;
import java.util.Map;

/**
 * The server's upstream credentials for AWS Bedrock and Google Vertex AI, from its flags:
 * {@code --bedrock-signing-region} (SigV4 with the AWS SDK's default credential chain),
 * {@code --bedrock-upstream} (the scheme and host Envoy's Bedrock route sends to, which the
 * signature covers; by default {@code https://bedrock-runtime.<region>.amazonaws.com}) and
 * {@code --vertex-application-default-credentials} (Google's Application Default Credentials). A
 * signer replaces the provider's {@code api_key_env}.
 *
 * @param bedrockRegion   the AWS region to sign Bedrock requests for, or null: not signed
 * @param bedrockUpstream the Bedrock origin Envoy sends to, or null: the region's public endpoint
 * @param vertexAdc       authorise Vertex requests with Application Default Credentials
 */
record CloudSigning(String bedrockRegion, String bedrockUpstream, boolean vertexAdc) {

    static final CloudSigning NONE = new CloudSigning(null, null, false);

    CloudSigning {
        if (bedrockUpstream != null && bedrockRegion == null) {
            throw new IllegalArgumentException("--bedrock-upstream needs --bedrock-signing-region");
        }
        if (bedrockUpstream != null) {
            URI u;
            try {
                u = URI.create(bedrockUpstream.trim());
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("--bedrock-upstream is not a URL: " + e.getMessage(), e);
            }
            if (!"https".equals(u.getScheme()) && !"http".equals(u.getScheme()) || u.getRawAuthority() == null
                    || !(u.getRawPath() == null || u.getRawPath().isEmpty()) || u.getRawQuery() != null) {
                throw new IllegalArgumentException("--bedrock-upstream must be a scheme and host with no path, such as "
                        + "https://bedrock-runtime.us-east-1.amazonaws.com, was '" + bedrockUpstream + "'");
            }
        }
    }

    /** Registers the signers (the credential sources are looked up now; credentials on first use). */
    GatewayOptions.Builder register(GatewayOptions.Builder options) {
        if (bedrockRegion != null) {
            options.upstreamSigner(Provider.BEDROCK, AwsSigV4Signer.defaultChain(bedrockRegion));
        }
        if (vertexAdc) {
            options.upstreamSigner(Provider.VERTEX, GoogleAccessToken.applicationDefault());
        }
        return options;
    }

    /** Where the signed requests go. */
    UpstreamSigning upstreams() {
        if (bedrockRegion == null) {
            return UpstreamSigning.none();
        }
        String origin = bedrockUpstream != null ? bedrockUpstream.trim()
                : "https://bedrock-runtime." + bedrockRegion + ".amazonaws.com";
        return new UpstreamSigning(Map.of(Provider.BEDROCK, URI.create(origin)));
    }
}
