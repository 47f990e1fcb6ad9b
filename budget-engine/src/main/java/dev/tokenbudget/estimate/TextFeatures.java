package dev.tokenbudget.estimate;

/**
 * A one-pass, allocation-free tally of the character classes that drive BPE token counts, and
 * the calibrated linear estimate over them. Costs a few nanoseconds per character, so any
 * prompt is estimated in microseconds. The weights were fitted against exact o200k_base and
 * cl100k_base counts (docs/usage.md has the corpus, the command and the measured error).
 */
final class TextFeatures {

    /** Feature indices. */
    static final int WORDS = 0;       // runs of ASCII letters
    static final int LETTERS = 1;     // ASCII letters (long words split into several tokens)
    static final int DIGITS = 2;      // ASCII digits (split in groups of up to three)
    static final int PUNCT = 3;       // ASCII punctuation and symbols
    static final int NEWLINES = 4;    // line breaks
    static final int SPACES = 5;      // other whitespace
    static final int TWO_BYTE = 6;    // U+0080..U+07FF: accented Latin, Greek, Cyrillic, Hebrew, Arabic
    static final int THREE_BYTE = 7;  // U+0800..U+FFFF: CJK, kana, Hangul, Indic, Thai
    static final int ASTRAL = 8;      // beyond U+FFFF: emoji, rare CJK
    static final int COUNT = 9;

    private TextFeatures() {
    }

    /** Tallies the features of {@code s} into a new array. */
    static double[] of(CharSequence s) {
        double[] f = new double[COUNT];
        boolean inWord = false;
        int n = s.length();
        for (int i = 0; i < n; i++) {
            char c = s.charAt(i);
            if (c < 0x80) {
                boolean letter = (c | 0x20) >= 'a' && (c | 0x20) <= 'z';
                if (letter) {
                    f[LETTERS]++;
                    if (!inWord) {
                        f[WORDS]++;
                    }
                } else if (c >= '0' && c <= '9') {
                    f[DIGITS]++;
                } else if (c == '\n') {
                    f[NEWLINES]++;
                } else if (c == ' ' || c == '\t' || c == '\r') {
                    f[SPACES]++;
                } else {
                    f[PUNCT]++;
                }
                inWord = letter;
            } else {
                inWord = false;
                if (c < 0x800) {
                    f[TWO_BYTE]++;
                } else if (Character.isHighSurrogate(c)) {
                    f[ASTRAL]++;
                    i++;
                } else {
                    f[THREE_BYTE]++;
                }
            }
        }
        return f;
    }

    /** The linear estimate {@code sum(w[i] * f[i])}, never below zero. */
    static double estimate(double[] features, double[] weights) {
        double t = 0;
        for (int i = 0; i < COUNT; i++) {
            t += features[i] * weights[i];
        }
        return Math.max(0, t);
    }
}
