package dev.tokenbudget.apisix;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tokenbudget.config.ConfigError;
import dev.tokenbudget.config.ConfigException;
import dev.tokenbudget.provider.Provider;

import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * One route's TokenBudget settings: the JSON string APISIX passes as the {@code value} of the
 * plugin's entry in {@code ext-plugin-pre-req.conf}.
 * Reference: {@code docs/apisix.md}.
 *
 * <pre>
 * {"config": "/etc/tokenbudget/tokenbudget.yaml", "provider": "openai", "settle": "response",
 *  "feature_header": "x-feature", "user_header": "x-user",
 *  "upstream": "https://bedrock-runtime.us-east-1.amazonaws.com"}
 * </pre>
 *
 * @param config         the engine YAML; every route naming the same file shares one engine
 * @param provider       the provider family, or null to detect it from the request path
 * @param settle         when the reservation is settled
 * @param featureHeader  header naming the feature budget on this route, or null for the engine's
 * @param userHeader     header naming the end user on this route, or null for the engine's
 * @param upstream       scheme and host (with a non-default port) the route's upstream is reached at, as
 *                       a SigV4 signature covers it (the {@code Host} APISIX sends, by {@code pass_host}); null
 *                       when the route's requests are not signed or need no host (a Vertex token)
 */
public record RouteConf(Path config, Provider provider, Settle settle, String featureHeader, String userHeader,
                        URI upstream) {

    /** When a route's reservations are settled. */
    public enum Settle {
        /**
         * From the provider's usage in the response the client got, which the route's
         * {@code http-logger} posts to the plugin's settle endpoint.
         */
        RESPONSE,
        /**
         * At admission, by the reservation itself (input estimate plus output ceiling): for routes
         * without the {@code http-logger}. Never under-counts.
         */
        ESTIMATE
    }

    private static final Set<String> FIELDS = Set.of("config", "provider", "settle", "feature_header",
            "user_header", "upstream");
    private static final Pattern HEADER = Pattern.compile("[a-z0-9!#$%&'*+.^_`|~-]{1,128}");
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int MAX_LENGTH = 16 * 1024;

    /**
     * Parses and validates a route's conf value.
     *
     * @throws ConfigException naming each bad field, e.g. {@code settle: must be "response" or "estimate", was "x"}
     */
    public static RouteConf parse(String value) {
        List<ConfigError> errors = new ArrayList<>();
        RouteConf conf = read(value, errors);
        if (!errors.isEmpty()) {
            throw new ConfigException(errors);
        }
        return conf;
    }

    private static RouteConf read(String value, List<ConfigError> errors) {
        if (value == null || value.isBlank()) {
            errors.add(new ConfigError("", "the TokenBudget conf value is empty; it must be a JSON object such as "
                    + "{\"config\": \"/etc/tokenbudget/tokenbudget.yaml\"}"));
            return null;
        }
        if (value.length() > MAX_LENGTH) {
            errors.add(new ConfigError("", "the TokenBudget conf value is " + value.length() + " characters; at most "
                    + MAX_LENGTH + " are allowed"));
            return null;
        }
        JsonNode root;
        try {
            root = JSON.readTree(value);
        } catch (JsonProcessingException e) {
            String where = e.getLocation() == null ? "" : " at column " + e.getLocation().getColumnNr();
            errors.add(new ConfigError("", "the TokenBudget conf value is not valid JSON" + where + ": "
                    + e.getOriginalMessage()));
            return null;
        }
        if (root == null || !root.isObject()) {
            errors.add(new ConfigError("", "the TokenBudget conf value must be a JSON object, was "
                    + (root == null ? "empty" : root.getNodeType().name().toLowerCase(Locale.ROOT))));
            return null;
        }
        for (Iterator<String> it = root.fieldNames(); it.hasNext(); ) {
            String f = it.next();
            if (!FIELDS.contains(f)) {
                errors.add(new ConfigError(f, "unknown field; known fields are " + String.join(", ",
                        FIELDS.stream().sorted().toList())));
            }
        }
        Path config = configPath(root.get("config"), errors);
        String providerName = text(root, "provider", null, errors);
        Provider provider = providerName == null ? null : Provider.byName(providerName).orElse(null);
        if (providerName != null && provider == null) {
            errors.add(new ConfigError("provider", "must be one of " + Arrays.stream(Provider.values())
                    .map(Provider::configName).toList() + ", was \"" + providerName + "\""));
        }
        String settleText = text(root, "settle", "response", errors);
        Settle settle = switch (settleText == null ? "response" : settleText) {
            case "response" -> Settle.RESPONSE;
            case "estimate" -> Settle.ESTIMATE;
            default -> {
                errors.add(new ConfigError("settle", "must be \"response\" or \"estimate\", was \"" + settleText
                        + "\""));
                yield Settle.RESPONSE;
            }
        };
        return new RouteConf(config, provider, settle, header(root, "feature_header", errors),
                header(root, "user_header", errors), upstream(root.get("upstream"), errors));
    }

    private static URI upstream(JsonNode n, List<ConfigError> errors) {
        if (n == null || n.isNull()) {
            return null;
        }
        String why = "must be the scheme and host of the route's upstream, with its port when not the default, "
                + "such as \"https://bedrock-runtime.us-east-1.amazonaws.com\"; was " + n;
        if (!n.isTextual()) {
            errors.add(new ConfigError("upstream", why));
            return null;
        }
        try {
            URI u = new URI(n.asText().trim());
            boolean bare = u.getRawPath() == null || u.getRawPath().isEmpty() || u.getRawPath().equals("/");
            if (("https".equals(u.getScheme()) || "http".equals(u.getScheme())) && u.getHost() != null && bare
                    && u.getRawQuery() == null && u.getRawUserInfo() == null) {
                return new URI(u.getScheme() + "://" + u.getRawAuthority());
            }
        } catch (URISyntaxException e) {
            // below
        }
        errors.add(new ConfigError("upstream", why));
        return null;
    }

    private static String header(JsonNode root, String field, List<ConfigError> errors) {
        String h = text(root, field, null, errors);
        if (h != null && !HEADER.matcher(h).matches()) {
            errors.add(new ConfigError(field, "must be an HTTP header name, was \"" + h + "\""));
            return null;
        }
        return h;
    }

    private static Path configPath(JsonNode n, List<ConfigError> errors) {
        if (n == null || n.isNull()) {
            errors.add(new ConfigError("config", "is required: the path of the tokenbudget engine YAML"));
            return null;
        }
        if (!n.isTextual() || n.asText().isBlank()) {
            errors.add(new ConfigError("config", "must be a non-empty string (a file path), was " + n));
            return null;
        }
        try {
            Path p = Path.of(n.asText());
            if (!p.isAbsolute()) {
                errors.add(new ConfigError("config", "must be an absolute path (the runner's working directory is "
                        + "APISIX's), was \"" + n.asText() + "\""));
                return null;
            }
            return p.normalize();
        } catch (InvalidPathException e) {
            errors.add(new ConfigError("config", "is not a valid path: " + e.getMessage()));
            return null;
        }
    }

    private static String text(JsonNode root, String field, String dflt, List<ConfigError> errors) {
        JsonNode n = root.get(field);
        if (n == null || n.isNull()) {
            return dflt;
        }
        if (!n.isTextual()) {
            errors.add(new ConfigError(field, "must be a string, was " + n));
            return dflt;
        }
        return n.asText().trim().toLowerCase(Locale.ROOT);
    }
}
