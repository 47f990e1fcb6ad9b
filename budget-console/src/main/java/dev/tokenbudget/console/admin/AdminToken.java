package dev.tokenbudget.console.admin;

import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.Map;
import java.util.Objects;

/**
 * The bearer token that guards the admin API. Compared in constant time: both sides are hashed
 * first, so neither the content nor the length of the expected token leaks through timing.
 */
public final class AdminToken {

    /** The environment variable hosts read the token from. */
    public static final String ENV = "TOKENBUDGET_ADMIN_TOKEN";

    /** Shorter tokens are refused: a guessable token on an API that changes limits is worse than none. */
    public static final int MIN_LENGTH = 16;

    private final byte[] digest;

    private AdminToken(String token) {
        this.digest = sha256(token);
    }

    /** A token; refuses one shorter than {@value #MIN_LENGTH} characters or with blanks around it. */
    public static AdminToken of(String token) {
        Objects.requireNonNull(token, "token");
        if (token.length() < MIN_LENGTH) {
            throw new IllegalArgumentException(ENV + " must be at least " + MIN_LENGTH + " characters, was "
                    + token.length());
        }
        if (!token.strip().equals(token)) {
            throw new IllegalArgumentException(ENV + " must not start or end with whitespace");
        }
        return new AdminToken(token);
    }

    /** A fresh random token: 32 bytes from {@link SecureRandom}, base64url without padding. */
    public static String generate() {
        byte[] b = new byte[32];
        new SecureRandom().nextBytes(b);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(b);
    }

    /**
     * The token a host should use: {@code TOKENBUDGET_ADMIN_TOKEN} from {@code env} when set, else
     * a generated one, printed to {@code out} as {@code TOKENBUDGET_ADMIN_TOKEN=...} so that the
     * operator can copy it (hosts pass {@code System.getenv()} and {@code System.out}).
     */
    public static String fromEnvironmentOrGenerate(Map<String, String> env, PrintStream out) {
        String t = env.get(ENV);
        if (t != null && !t.isEmpty()) {
            of(t);
            return t;
        }
        String generated = generate();
        out.println(ENV + "=" + generated);
        out.flush();
        return generated;
    }

    /** Whether an {@code Authorization} header value carries this token as {@code Bearer <token>}. */
    public boolean accepts(String authorization) {
        if (authorization == null || authorization.length() > 1024) {
            return false;
        }
        String a = authorization.strip();
        if (a.length() < 7 || !a.regionMatches(true, 0, "Bearer ", 0, 7)) {
            return false;
        }
        return MessageDigest.isEqual(digest, sha256(a.substring(7).strip()));
    }

    private static byte[] sha256(String s) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }

    @Override
    public String toString() {
        return "AdminToken[***]";
    }
}
