package dev.tokenbudget.budget;

/** What a limit counts: input tokens, output tokens, or their sum. */
public enum Dimension {
    INPUT,
    OUTPUT,
    TOTAL;

    public String label() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
