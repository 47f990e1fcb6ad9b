package dev.tokenbudget.scg;

import dev.tokenbudget.config.ConfigException;
import dev.tokenbudget.config.ConfigLoader;
import dev.tokenbudget.config.EngineConfig;
import org.springframework.core.io.Resource;
import org.springframework.core.io.ResourceLoader;

import java.io.IOException;
import java.nio.charset.StandardCharsets;

/** Loads the engine YAML named by {@code tokenbudget.config}, with errors that say which file and what is wrong. */
final class EngineConfigs {

    private EngineConfigs() {
    }

    static EngineConfig load(String location, ResourceLoader loader) {
        String where = location.contains(":") && !location.matches("[A-Za-z]:[\\\\/].*") ? location
                : "file:" + location;
        Resource r = loader.getResource(where);
        if (!r.exists()) {
            throw new IllegalStateException("tokenbudget.config: " + location + " does not exist");
        }
        String text;
        try {
            text = r.getContentAsString(StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalStateException("tokenbudget.config: cannot read " + location + ": " + e.getMessage(), e);
        }
        try {
            return ConfigLoader.parse(text);
        } catch (ConfigException e) {
            throw new IllegalStateException("tokenbudget.config: " + location + " has " + e.getMessage(), e);
        }
    }
}
