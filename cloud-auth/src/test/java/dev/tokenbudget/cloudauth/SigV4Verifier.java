package dev.tokenbudget.cloudauth;

import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.http.ContentStreamProvider;
import software.amazon.awssdk.http.SdkHttpMethod;
import software.amazon.awssdk.http.SdkHttpRequest;
import software.amazon.awssdk.http.auth.aws.signer.AwsV4FamilyHttpSigner;
import software.amazon.awssdk.http.auth.aws.signer.AwsV4HttpSigner;

import java.net.URI;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What Bedrock's front end checks of a SigV4 request, recomputed with the AWS SDK's own signer: the
 * signature over the received method, URL, signed headers and body, at the request's own
 * {@code x-amz-date}, must equal the one received. A stand-in for AWS's verification (which is not
 * public code): it applies the signing rules of the SDK ({@code AwsV4HttpSigner}) to what arrived.
 */
public final class SigV4Verifier {

    private static final Pattern AUTH = Pattern.compile(
            "AWS4-HMAC-SHA256 Credential=([^/]+)/(\\d{8})/([^/]+)/([^/]+)/aws4_request, SignedHeaders=([^,]+), Signature=([0-9a-f]{64})");
    private static final DateTimeFormatter AMZ_DATE = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'")
            .withZone(ZoneOffset.UTC);

    private SigV4Verifier() {
    }

    /**
     * Null when the request is correctly signed by {@code credentials}' key for {@code service} in
     * {@code region}; else why not.
     *
     * @param headers received headers, lower-case names, first values
     */
    public static String problem(String method, URI received, Map<String, String> headers, byte[] body,
                                 AwsCredentialsProvider credentials, String service, String region) {
        String auth = headers.get("authorization");
        Matcher m = auth == null ? null : AUTH.matcher(auth);
        if (m == null || !m.matches()) {
            return "no SigV4 authorization header: " + auth;
        }
        if (!m.group(1).equals(credentials.resolveCredentials().accessKeyId())) {
            return "unknown access key " + m.group(1);
        }
        if (!m.group(3).equals(region) || !m.group(4).equals(service)) {
            return "wrong scope " + m.group(3) + "/" + m.group(4);
        }
        String date = headers.get("x-amz-date");
        if (date == null) {
            return "no x-amz-date";
        }
        Instant at = Instant.from(AMZ_DATE.parse(date));
        SdkHttpRequest.Builder req = SdkHttpRequest.builder().method(SdkHttpMethod.fromValue(method)).uri(received);
        for (String h : List.of(m.group(5).split(";"))) {
            if (!h.equals("host") && !h.equals("x-amz-date") && !h.equals("x-amz-security-token")
                    && !h.equals("x-amz-content-sha256")) {
                String v = headers.get(h.toLowerCase(Locale.ROOT));
                if (v == null) {
                    return "signed header " + h + " is missing";
                }
                req.putHeader(h, v);
            }
        }
        String expected = AwsV4HttpSigner.create().sign(r -> r.request(req.build())
                        .payload(ContentStreamProvider.fromByteArrayUnsafe(body))
                        .identity(credentials.resolveCredentials())
                        .putProperty(AwsV4FamilyHttpSigner.SERVICE_SIGNING_NAME, service)
                        .putProperty(AwsV4HttpSigner.REGION_NAME, region)
                        .putProperty(AwsV4FamilyHttpSigner.SIGNING_CLOCK, Clock.fixed(at, ZoneOffset.UTC)))
                .request().firstMatchingHeader("Authorization").orElse("");
        return expected.equals(auth) ? null : "signature mismatch: expected " + expected + ", got " + auth;
    }
}
