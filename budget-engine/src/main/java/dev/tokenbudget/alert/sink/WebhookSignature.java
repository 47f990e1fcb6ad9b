package dev.tokenbudget.alert.sink;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;

/**
 * The generic webhook's signature: {@code v1=} and the hex HMAC-SHA256, keyed with the shared
 * secret, of {@code <timestamp>.<body>}, where the timestamp is the Unix seconds sent in
 * {@value #TIMESTAMP_HEADER}. Signing the timestamp with the body lets a receiver refuse replays:
 * reject a timestamp outside its tolerance (5 minutes) and remember the delivery ids
 * ({@value #DELIVERY_HEADER}) it saw within it. docs/alerts.md shows a receiver.
 */
public final class WebhookSignature {

    public static final String SIGNATURE_HEADER = "X-TokenBudget-Signature";
    public static final String TIMESTAMP_HEADER = "X-TokenBudget-Timestamp";
    public static final String DELIVERY_HEADER = "X-TokenBudget-Delivery";
    public static final Duration DEFAULT_TOLERANCE = Duration.ofMinutes(5);

    private static final String SCHEME = "v1=";

    private WebhookSignature() {
    }

    /** The signature header's value for a body sent at {@code timestampSeconds}. */
    public static String sign(byte[] secret, long timestampSeconds, String body) {
        return SCHEME + HexFormat.of().formatHex(hmac(secret, timestampSeconds + "." + body));
    }

    /**
     * Whether a received request is authentic and fresh: the signature matches (compared in
     * constant time) and the timestamp lies within {@code tolerance} of {@code now}.
     */
    public static boolean verify(byte[] secret, String timestampHeader, String signatureHeader, String body,
                                 Instant now, Duration tolerance) {
        if (timestampHeader == null || signatureHeader == null || body == null
                || !signatureHeader.startsWith(SCHEME)) {
            return false;
        }
        long ts;
        try {
            ts = Long.parseLong(timestampHeader.trim());
        } catch (NumberFormatException e) {
            return false;
        }
        if (Math.abs(now.getEpochSecond() - ts) > tolerance.toSeconds()) {
            return false;
        }
        byte[] expected = hmac(secret, ts + "." + body);
        byte[] given;
        try {
            given = HexFormat.of().parseHex(signatureHeader.substring(SCHEME.length()));
        } catch (IllegalArgumentException e) {
            return false;
        }
        return MessageDigest.isEqual(expected, given);
    }

    private static byte[] hmac(byte[] secret, String message) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(secret, "HmacSHA256"));
            return mac.doFinal(message.getBytes(StandardCharsets.UTF_8));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is part of every Java runtime", e);
        }
    }
}
