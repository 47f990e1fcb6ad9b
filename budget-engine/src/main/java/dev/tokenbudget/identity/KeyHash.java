package dev.tokenbudget.identity;

import java.nio.charset.StandardCharsets;
import java.security.DigestException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/** SHA-256 of a virtual key, as lower-case hex: the only form in which keys are stored. */
public final class KeyHash {

    private static final byte[] HEX = "0123456789abcdef".getBytes(StandardCharsets.US_ASCII);

    /**
     * One digest per thread, with the arrays its result is written through: every request hashes its
     * key, and {@link MessageDigest#getInstance} walks the security providers each time (a few
     * microseconds on a gateway's request path). A digest resets itself when it returns a result,
     * so nothing of one key remains for the next; the arrays are overwritten whole by each call,
     * and the string copies its bytes.
     */
    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    private KeyHash() {
    }

    public static String of(String secret) {
        Scratch s = SCRATCH.get();
        s.digest.update(secret.getBytes(StandardCharsets.UTF_8));
        byte[] d = s.sum;
        try {
            s.digest.digest(d, 0, d.length);
        } catch (DigestException e) {
            throw new IllegalStateException("a SHA-256 digest fills 32 bytes", e);
        }
        byte[] hex = s.hex;
        for (int i = 0; i < d.length; i++) {
            hex[2 * i] = HEX[(d[i] >> 4) & 0xf];
            hex[2 * i + 1] = HEX[d[i] & 0xf];
        }
        return new String(hex, StandardCharsets.US_ASCII);
    }

    private static final class Scratch {
        final MessageDigest digest = newDigest();
        final byte[] sum = new byte[32];
        final byte[] hex = new byte[64];
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
