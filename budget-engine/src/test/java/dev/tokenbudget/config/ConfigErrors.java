package dev.tokenbudget.config;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/** What the loader says about a config it refuses. */
final class ConfigErrors {

    private ConfigErrors() {
    }

    /** Every error {@link ConfigLoader#parse} names for {@code yaml}, path first; fails the test when it loads. */
    static List<String> of(String yaml) {
        ConfigException e = catchThrowableOfType(ConfigException.class, () -> ConfigLoader.parse(yaml));
        assertThat(e).as("a ConfigException for:%n%s", yaml).isNotNull();
        return e.errors().stream().map(ConfigError::toString).toList();
    }
}
