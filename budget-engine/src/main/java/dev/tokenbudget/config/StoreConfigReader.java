package dev.tokenbudget.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;

/** Reads {@code store:} (memory, or Redis with its URI, timeout, key prefix and TLS files). */
final class StoreConfigReader {

    private static final Set<String> STORE = Set.of("type", "redis");
    private static final Set<String> REDIS = Set.of("uri", "cluster", "timeout", "key_prefix", "tls", "blocks");
    private static final Set<String> BLOCKS = Set.of("enabled", "max_requests", "headroom_share", "flush_interval",
            "renew_below");
    private static final Set<String> TLS = Set.of("ca_file", "cert_file", "key_file");

    private StoreConfigReader() {
    }

    static StoreSettings read(ConfigNode n) {
        if (!n.expectObject(STORE)) {
            return StoreSettings.MEMORY;
        }
        String type = n.get("type").string("memory");
        if (!type.equals("memory") && !type.equals("redis")) {
            n.get("type").error("must be 'memory' or 'redis', was '" + type + "'");
            return StoreSettings.MEMORY;
        }
        ConfigNode r = n.get("redis");
        r.expectObject(REDIS);
        String uri = r.get("uri").string(null);
        if (type.equals("redis") && uri == null) {
            r.get("uri").error("is required when store.type is redis (e.g. redis://127.0.0.1:6379)");
        }
        if (uri != null) {
            // commas also separate the sentinels inside one redis-sentinel:// URI: split only before a scheme
            for (String u : uri.split(",(?=\\s*[a-z-]+://)")) {
                if (!u.trim().matches("(redis|rediss|redis-sentinel|redis-socket)://.+")) {
                    r.get("uri").error("must be a redis://, rediss:// or redis-sentinel:// URI, was '"
                            + ConfigLoader.printable(ConfigLoader.withoutCredentials(u.trim())) + "'");
                }
            }
        }
        Duration timeout = r.get("timeout").duration(StoreSettings.MEMORY.timeout());
        String prefix = r.get("key_prefix").string("tb");
        if (!prefix.matches("[A-Za-z0-9:_-]{1,32}")) {
            r.get("key_prefix").error("must be 1-32 of A-Z a-z 0-9 : _ -, was '" + prefix + "'");
        }
        return new StoreSettings(type, uri, r.get("cluster").bool(false), timeout, prefix, tls(r.get("tls"), uri),
                blocks(r.get("blocks")));
    }

    private static BlockSettings blocks(ConfigNode n) {
        if (!n.expectObject(BLOCKS)) {
            return BlockSettings.DISABLED;
        }
        BlockSettings d = BlockSettings.DISABLED;
        int max = n.get("max_requests").integer(d.maxRequests(), 2, 1_000_000);
        double share = n.get("headroom_share").number(d.headroomShare());
        if (!(share > 0 && share <= 1)) {
            n.get("headroom_share").error("must be in (0, 1], was " + share);
            share = d.headroomShare();
        }
        Duration flush = n.get("flush_interval").duration(d.flushInterval());
        if (flush.isNegative() || flush.isZero()) {
            n.get("flush_interval").error("must be > 0, was " + flush);
            flush = d.flushInterval();
        }
        double renew = n.get("renew_below").number(d.renewBelow());
        if (!(renew >= 0 && renew < 1)) {
            n.get("renew_below").error("must be in [0, 1), was " + renew);
            renew = d.renewBelow();
        }
        return new BlockSettings(n.get("enabled").bool(true), max, share, flush, renew);
    }

    /** Files are read when the store opens (a missing one stops it there, naming this path). */
    private static TlsSettings tls(ConfigNode n, String uri) {
        if (!n.expectObject(TLS)) {
            return TlsSettings.DEFAULT;
        }
        if (uri != null && !uri.trim().startsWith("rediss://")) {
            String scheme = uri.trim().replaceAll("://.*", "");
            n.error("applies to rediss:// URIs only (TLS), the uri is " + ConfigLoader.printable(scheme) + "://...");
        }
        Path ca = path(n.get("ca_file"));
        Path cert = path(n.get("cert_file"));
        Path key = path(n.get("key_file"));
        if ((cert == null) != (key == null)) {
            n.get(cert == null ? "cert_file" : "key_file").error("is required with "
                    + (cert == null ? "key_file" : "cert_file") + " (a client certificate and its key)");
            return new TlsSettings(ca, null, null);
        }
        return new TlsSettings(ca, cert, key);
    }

    private static Path path(ConfigNode n) {
        String s = n.string(null);
        if (s == null) {
            return null;
        }
        if (s.isBlank() || s.chars().anyMatch(c -> c < 0x20 || c == 0x7F)) {
            n.error("must be a file path, was '" + ConfigLoader.printable(s) + "'");
            return null;
        }
        try {
            return Path.of(s);
        } catch (java.nio.file.InvalidPathException e) {
            n.error("must be a file path, was '" + ConfigLoader.printable(s) + "'");
            return null;
        }
    }
}
