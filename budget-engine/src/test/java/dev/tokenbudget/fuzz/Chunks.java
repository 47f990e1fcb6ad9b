package dev.tokenbudget.fuzz;

import java.nio.charset.StandardCharsets;
import java.util.Random;

/** Cutting an input into chunks anywhere, as the network does, and showing bytes in failure reports. */
final class Chunks {

    private Chunks() {
    }

    /** Sorted cut offsets in {@code 0..length}, from a seed (duplicates give empty chunks, also legal). */
    static int[] cuts(int length, long seed) {
        Random r = new Random(seed);
        return r.ints(r.nextInt(12), 0, length + 1).sorted().toArray();
    }

    /** Feeds {@code b} to {@code feed} cut at {@code cuts}. */
    static void feed(byte[] b, int[] cuts, Feed feed) {
        int from = 0;
        for (int c : cuts) {
            feed.accept(b, from, c - from);
            from = c;
        }
        feed.accept(b, from, b.length - from);
    }

    /** Feeds {@code b} one byte at a time. */
    static void feedBytewise(byte[] b, Feed feed) {
        for (int i = 0; i < b.length; i++) {
            feed.accept(b, i, 1);
        }
    }

    /** The bytes as text with control characters escaped, cut to a readable length. */
    static String show(byte[] b) {
        String s = new String(b, 0, Math.min(b.length, 600), StandardCharsets.UTF_8);
        StringBuilder sb = new StringBuilder();
        s.codePoints().forEach(c -> sb.append(c < 0x20 ? "\\x" + Integer.toHexString(c) : Character.toString(c)));
        return sb + (b.length > 600 ? "... (" + b.length + " bytes)" : "");
    }

    /** Where the bytes go: a parser's feed method. */
    @FunctionalInterface
    interface Feed {
        void accept(byte[] b, int off, int len);
    }
}
