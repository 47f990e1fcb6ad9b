package dev.tokenbudget.provider;

/**
 * Strict UTF-8 validation (RFC 3629): no overlong forms, no surrogates, nothing above U+10FFFF.
 * Jackson decodes some overlong forms leniently; a body that this gateway and the provider could
 * read differently is refused instead. One pass, no allocation.
 */
final class Utf8 {

    private Utf8() {
    }

    /** The offset of the first invalid byte, or -1 when {@code b} is valid UTF-8. */
    static int firstInvalid(byte[] b) {
        int i = 0;
        int n = b.length;
        while (i < n) {
            int c = b[i] & 0xFF;
            if (c < 0x80) {
                i++;
                continue;
            }
            int len;
            int min;
            if (c >= 0xC2 && c <= 0xDF) {
                len = 2;
                min = 0x80;
            } else if (c >= 0xE0 && c <= 0xEF) {
                len = 3;
                min = 0x800;
            } else if (c >= 0xF0 && c <= 0xF4) {
                len = 4;
                min = 0x10000;
            } else {
                return i; // continuation byte, C0/C1 overlong lead, or F5..FF
            }
            if (i + len > n) {
                return i;
            }
            int cp = c & (0xFF >> (len + 1));
            for (int k = 1; k < len; k++) {
                int cc = b[i + k] & 0xFF;
                if ((cc & 0xC0) != 0x80) {
                    return i;
                }
                cp = (cp << 6) | (cc & 0x3F);
            }
            if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
                return i;
            }
            i += len;
        }
        return -1;
    }

    /**
     * The same rule over bytes that arrive in pieces (a sequence may be cut anywhere): a body is
     * valid when every piece was accepted and {@link #complete()} holds at its end.
     */
    static final class Validator {
        private int need; // continuation bytes still expected
        private int cp;
        private int min;
        private boolean bad;

        /** Reads {@code b[off..off+len)}; false once anything read so far is invalid. */
        boolean feed(byte[] b, int off, int len) {
            int end = off + len;
            for (int i = off; i < end && !bad; i++) {
                int c = b[i] & 0xFF;
                if (need == 0) {
                    if (c < 0x80) {
                        continue;
                    }
                    if (c >= 0xC2 && c <= 0xDF) {
                        need = 1;
                        min = 0x80;
                        cp = c & 0x1F;
                    } else if (c >= 0xE0 && c <= 0xEF) {
                        need = 2;
                        min = 0x800;
                        cp = c & 0x0F;
                    } else if (c >= 0xF0 && c <= 0xF4) {
                        need = 3;
                        min = 0x10000;
                        cp = c & 0x07;
                    } else {
                        bad = true;
                    }
                } else if ((c & 0xC0) != 0x80) {
                    bad = true;
                } else {
                    cp = (cp << 6) | (c & 0x3F);
                    if (--need == 0 && (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))) {
                        bad = true;
                    }
                }
            }
            return !bad;
        }

        /** True when everything fed was valid and no sequence is left unfinished. */
        boolean complete() {
            return !bad && need == 0;
        }
    }
}
