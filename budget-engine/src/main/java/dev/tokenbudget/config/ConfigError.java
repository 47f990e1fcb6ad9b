package dev.tokenbudget.config;

/** One problem in a config: where ({@code budgets[2].windows[0].limits.output}) and what. */
public record ConfigError(String path, String message) {

    @Override
    public String toString() {
        return path.isEmpty() ? message : path + ": " + message;
    }
}
