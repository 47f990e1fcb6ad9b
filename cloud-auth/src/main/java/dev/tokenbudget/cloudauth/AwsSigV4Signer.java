package dev.tokenbudget.cloudauth;

import dev.tokenbudget.gateway.UpstreamSigner;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.http.ContentStreamProvider;
import software.amazon.awssdk.http.SdkHttpMethod;
import software.amazon.awssdk.http.SdkHttpRequest;
import software.amazon.awssdk.http.auth.aws.signer.AwsV4FamilyHttpSigner;
import software.amazon.awssdk.http.auth.aws.signer.AwsV4HttpSigner;
import software.amazon.awssdk.http.auth.spi.signer.SignedRequest;

import java.net.URI;
import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * Signs Bedrock Runtime requests with AWS Signature Version 4, using the AWS SDK's own signer
 * ({@code AwsV4HttpSigner}, service {@code bedrock}) and credentials from an
 * {@link AwsCredentialsProvider} — by default the SDK's default chain: environment
 * ({@code AWS_ACCESS_KEY_ID}…), Java system properties ({@code aws.accessKeyId}…), profiles,
 * web identity, the container and instance endpoints; temporary credentials are refreshed by the
 * provider and their session token is sent as {@code x-amz-security-token}. The signature covers
 * the method, the URL as sent, {@code host}, {@code content-type} and the body's SHA-256, so it is
 * computed over the final (possibly rewritten) request. Thread-safe.
 */
public final class AwsSigV4Signer implements UpstreamSigner {

    /** The signing name of Bedrock Runtime (its SigV4 credential scope's service). */
    public static final String SERVICE = "bedrock";

    /** Request headers that are signed when present (the rest may be changed by proxies on the way). */
    private static final List<String> SIGNED = List.of("content-type");

    private static final AwsV4HttpSigner SIGNER = AwsV4HttpSigner.create();

    private final AwsCredentialsProvider credentials;
    private final String region;
    private final Clock clock;

    private AwsSigV4Signer(AwsCredentialsProvider credentials, String region, Clock clock) {
        this.credentials = Objects.requireNonNull(credentials, "credentials");
        if (region == null || !region.matches("[a-z]{2}(-[a-z]+)+-\\d+")) {
            throw new IllegalArgumentException("region must be an AWS region such as us-east-1, was '" + region + "'");
        }
        this.region = region;
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    /** A signer for {@code region} with the SDK's default credential chain. */
    public static AwsSigV4Signer defaultChain(String region) {
        return new AwsSigV4Signer(DefaultCredentialsProvider.builder().build(), region, Clock.systemUTC());
    }

    /** A signer with the given credentials (tests, or a host's own provider) and clock. */
    public static AwsSigV4Signer of(AwsCredentialsProvider credentials, String region, Clock clock) {
        return new AwsSigV4Signer(credentials, region, clock);
    }

    @Override
    public Map<String, String> sign(String method, URI uri, Map<String, String> headers, byte[] body) {
        SdkHttpRequest.Builder req = SdkHttpRequest.builder().method(SdkHttpMethod.fromValue(method)).uri(uri);
        headers.forEach((k, v) -> {
            if (SIGNED.contains(k.toLowerCase(Locale.ROOT))) {
                req.putHeader(k, v);
            }
        });
        SignedRequest signed = SIGNER.sign(r -> r.request(req.build())
                .payload(ContentStreamProvider.fromByteArrayUnsafe(body))
                .identity(credentials.resolveCredentials())
                .putProperty(AwsV4FamilyHttpSigner.SERVICE_SIGNING_NAME, SERVICE)
                .putProperty(AwsV4HttpSigner.REGION_NAME, region)
                .putProperty(AwsV4FamilyHttpSigner.SIGNING_CLOCK, clock));
        Map<String, String> out = new LinkedHashMap<>();
        signed.request().headers().forEach((k, v) -> {
            String name = k.toLowerCase(Locale.ROOT);
            // host is the URL's; the rest are the signature, its date, the payload hash and a session token
            if (!name.equals("host") && !SIGNED.contains(name) && !v.isEmpty()) {
                out.put(name, v.get(0));
            }
        });
        return out;
    }

    @Override
    public String toString() {
        return "AwsSigV4Signer[" + SERVICE + " " + region + "]";
    }
}
