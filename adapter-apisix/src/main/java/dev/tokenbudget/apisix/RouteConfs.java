package dev.tokenbudget.apisix;

import dev.tokenbudget.config.ConfigException;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Parsed route confs by their JSON text. APISIX sends a route's conf once per conf token and the
 * runner hands the same string to every request, so each distinct string is parsed once; a bad
 * one is remembered with its error and answered the same way every time.
 */
final class RouteConfs {

    /** More distinct confs than any gateway has routes: past it, start over rather than grow. */
    private static final int MAX = 4096;

    private record Parsed(RouteConf conf, ConfigException error) {
    }

    private final Map<String, Parsed> parsed = new ConcurrentHashMap<>();

    /**
     * The route conf for {@code value}.
     *
     * @throws ConfigException when it is invalid (every error, each naming its field)
     */
    RouteConf get(String value) {
        String key = value == null ? "" : value;
        Parsed p = parsed.get(key);
        if (p == null) {
            if (parsed.size() >= MAX) {
                parsed.clear();
            }
            p = parsed.computeIfAbsent(key, RouteConfs::parse);
        }
        if (p.error() != null) {
            throw p.error();
        }
        return p.conf();
    }

    private static Parsed parse(String value) {
        try {
            return new Parsed(RouteConf.parse(value), null);
        } catch (ConfigException e) {
            return new Parsed(null, e);
        }
    }
}
