package dev.tokenbudget.config;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;

import java.io.IOException;
import java.nio.charset.MalformedInputException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Reads the engine's YAML (or JSON) config into an {@link EngineConfig}, reporting every error
 * with the path of the field and what is wrong ({@code budgets[2].windows[0].limits.output: must
 * be > 0, was -5}). The reference is {@code docs/configuration.md}. Each section has its reader
 * ({@link ConfigReader} walks them); this class is the entry point and the checks they share.
 */
public final class ConfigLoader {

    /** Budget ids travel in headers, Redis keys and URLs: keep them to a safe alphabet. */
    public static final Pattern ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");

    /** Duplicate fields are refused: {@code limits: {total: 10, total: 10M}} must not silently mean one of them. */
    private static final ObjectMapper YAML = new ObjectMapper(YAMLFactory.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION).build());

    /** The providers a config may name under {@code providers:} and an upstream's {@code provider}. */
    static final Set<String> PROVIDERS = Set.of("openai", "anthropic", "gemini", "azure", "openai_compatible",
            "bedrock", "vertex");

    private ConfigLoader() {
    }

    public static EngineConfig load(Path file) {
        String text;
        try {
            text = Files.readString(file);
        } catch (MalformedInputException e) {
            throw new ConfigException(List.of(new ConfigError("", "cannot read " + file + ": it is not UTF-8 text")));
        } catch (IOException e) {
            throw new ConfigException(List.of(new ConfigError("", "cannot read " + file + ": " + e.getMessage())));
        }
        return parse(text);
    }

    public static EngineConfig parse(String yaml) {
        JsonNode root;
        try {
            root = YAML.readTree(yaml);
        } catch (JsonProcessingException e) {
            String where = e.getLocation() == null ? ""
                    : " at line " + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr();
            throw new ConfigException(List.of(new ConfigError("", "not valid YAML" + where + ": "
                    + e.getOriginalMessage())));
        }
        return parse(root);
    }

    public static EngineConfig parse(JsonNode root) {
        List<ConfigError> errors = new ArrayList<>();
        EngineConfig config = new ConfigReader(errors).read(new ConfigNode(root, "", errors));
        if (!errors.isEmpty()) {
            throw new ConfigException(errors);
        }
        return config;
    }

    /** A value for an error message, with control characters shown escaped (no line breaks in logs). */
    static String printable(String s) {
        StringBuilder b = new StringBuilder();
        s.codePoints().limit(80).forEach(b::appendCodePoint);
        return ConfigError.oneLine(s.codePointCount(0, s.length()) > 80 ? b + "..." : b.toString());
    }

    /** A URI for an error message, without the credentials a {@code user:password@} part may hold. */
    static String withoutCredentials(String uri) {
        return uri.replaceAll("(?<=://)[^@/]*@", "***@");
    }

    /** A budget, key or upstream id: {@link #ID}'s alphabet, else an error at {@code n} and null. */
    static String id(ConfigNode n) {
        String id = n.requiredString();
        if (id != null && !ID.matcher(id).matches()) {
            n.error("must be 1-64 of A-Z a-z 0-9 . _ - starting with a letter or digit, was '" + printable(id)
                    + "'");
            return null;
        }
        return id;
    }
}
