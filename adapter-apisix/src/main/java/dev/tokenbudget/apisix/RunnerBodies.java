package dev.tokenbudget.apisix;

import org.apache.apisix.plugin.runner.HttpRequest;
import org.apache.apisix.plugin.runner.PostRequest;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;

/**
 * The request and response bodies as the bytes APISIX sent.
 *
 * <p>Runner 0.4.0 turns each byte of a body into one {@code char} (that is, decodes it as
 * ISO-8859-1), so UTF-8 text arrives mangled; encoding the string back as ISO-8859-1 restores the
 * original bytes exactly. Runner 0.5.0 keeps the bytes and adds {@code getBody(Charset)}; when
 * that method exists it is used with UTF-8 instead, so one plugin jar serves both.
 */
final class RunnerBodies {

    private static final byte[] EMPTY = new byte[0];
    private static final MethodHandle REQUEST_BODY = charsetGetter(HttpRequest.class);
    private static final MethodHandle RESPONSE_BODY = charsetGetter(PostRequest.class);

    private RunnerBodies() {
    }

    /** The request body; empty when APISIX had none. */
    static byte[] request(HttpRequest r) {
        return bytes(REQUEST_BODY, r, r::getBody);
    }

    /** The upstream response body; empty when APISIX had none. */
    static byte[] response(PostRequest r) {
        return bytes(RESPONSE_BODY, r, r::getBody);
    }

    /** Whether this runner hands bodies over as ISO-8859-1-decoded strings (0.4.x). */
    static boolean latin1Bodies() {
        return REQUEST_BODY == null;
    }

    private static byte[] bytes(MethodHandle charsetGetter, Object target, java.util.function.Supplier<String> plain) {
        try {
            if (charsetGetter != null) {
                String s = (String) charsetGetter.invoke(target, StandardCharsets.UTF_8);
                return s == null ? EMPTY : s.getBytes(StandardCharsets.UTF_8);
            }
            String s = plain.get();
            return s == null ? EMPTY : s.getBytes(StandardCharsets.ISO_8859_1);
        } catch (NullPointerException e) {
            // 0.5.0's getBody(Charset) wraps a null array: no body was sent
            return EMPTY;
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("cannot read the body from the plugin runner", t);
        }
    }

    private static MethodHandle charsetGetter(Class<?> type) {
        try {
            return MethodHandles.publicLookup().findVirtual(type, "getBody",
                    MethodType.methodType(String.class, Charset.class));
        } catch (NoSuchMethodException | IllegalAccessException e) {
            return null;
        }
    }
}
