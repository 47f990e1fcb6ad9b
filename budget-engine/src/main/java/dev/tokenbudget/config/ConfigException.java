package dev.tokenbudget.config;

import java.util.List;
import java.util.stream.Collectors;

/** A config that failed validation, with every error found (not just the first). */
public final class ConfigException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final transient List<ConfigError> errors;

    public ConfigException(List<ConfigError> errors) {
        super(errors.size() + (errors.size() == 1 ? " config error" : " config errors") + ":\n  "
                + errors.stream().map(ConfigError::toString).collect(Collectors.joining("\n  ")));
        this.errors = List.copyOf(errors);
    }

    public List<ConfigError> errors() {
        return errors;
    }
}
