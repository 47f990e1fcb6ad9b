package dev.tokenbudget.identity;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/** SHA-256 of a virtual key, as lower-case hex: the only form in which keys are stored. */
public final class KeyHash {

    private static final byte[] HEX = "0123456789abcdef".getBytes(StandardCharsets.US_ASCII);

    /**
     * One digest per thread: every request hashes its key, and {@link MessageDigest#getInstance}
     * walks the security providers each time (a few microseconds on a gateway's request path).
     * A digest resets itself when {@link MessageDigest#digest(byte[])} returns, so nothing of one
     * key remains for the next.
     */
    private static final ThreadLocal<MessageDigest> DIGEST = ThreadLocal.withInitial(KeyHash::newDigest);

    private KeyHash() {
    }

    public static String of(String secret) {
        byte[] d = DIGEST.get().digest(secret.getBytes(StandardCharsets.UTF_8));
        byte[] hex = new byte[d.length * 2];
        for (int i = 0; i < d.length; i++) {
            hex[2 * i] = HEX[(d[i] >> 4) & 0xf];
            hex[2 * i + 1] = HEX[d[i] & 0xf];
        }
        return new String(hex, StandardCharsets.US_ASCII);
    }

    /** Whether {@code s} looks like a hash this class produces (64 lower-case hex digits). */
    public static boolean isHash(String s) {
        if (s == null || s.length() != 64) {
            return false;
        }
        for (int i = 0; i < 64; i++) {
            char c = s.charAt(i);
            if (!(c >= '0' && c <= '9' || c >= 'a' && c <= 'f')) {
                return false;
            }
        }
        return true;
    }

    private static MessageDigest newDigest() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required by every Java platform", e);
        }
    }
}
