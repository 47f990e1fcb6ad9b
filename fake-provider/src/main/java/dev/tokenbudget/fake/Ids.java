package dev.tokenbudget.fake;

import java.util.HexFormat;
import java.util.concurrent.ThreadLocalRandom;

/** Provider-looking identifiers: a prefix and random hex. */
final class Ids {

    private Ids() {
    }

    static String next(String prefix) {
        byte[] b = new byte[12];
        ThreadLocalRandom.current().nextBytes(b);
        return prefix + HexFormat.of().formatHex(b);
    }

    static long epochSeconds() {
        return System.currentTimeMillis() / 1000;
    }
}
