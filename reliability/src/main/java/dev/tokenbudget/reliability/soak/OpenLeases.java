package dev.tokenbudget.reliability.soak;

import io.lettuce.core.RedisClient;
import io.lettuce.core.ScoredValue;
import io.lettuce.core.api.StatefulRedisConnection;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Why a reservation is still open after the load: the leases Redis holds for the soak's tree
 * (their ids and expiry, read from the store's key layout, docs/redis.md) and, for each, what
 * the gateway's log says about it — a settle or release that failed, or nothing, which points at
 * a request the gateway never finished.
 */
final class OpenLeases {

    private OpenLeases() {
    }

    /** One line per open lease, at most {@code max}; empty when Redis holds none. */
    static List<String> explain(String redisUri, String prefix, String tree, Path gatewayLog, int max)
            throws IOException {
        List<ScoredValue<String>> leases;
        long nowMs;
        RedisClient client = RedisClient.create(redisUri);
        try (StatefulRedisConnection<String, String> c = client.connect()) {
            leases = c.sync().zrangeWithScores(prefix + ":{" + tree + "}:x", 0, max - 1);
            List<String> time = c.sync().time();
            nowMs = Long.parseLong(time.get(0)) * 1000 + Long.parseLong(time.get(1)) / 1000;
        } finally {
            client.shutdown();
        }
        List<String> log = Files.readAllLines(gatewayLog);
        List<String> out = new ArrayList<>();
        for (ScoredValue<String> l : leases) {
            String id = l.getValue();
            Pattern mentions = Pattern.compile("lease " + Pattern.quote(id) + "\\b");
            String said = log.stream().filter(line -> mentions.matcher(line).find()).findFirst()
                    .map(line -> "gateway log: " + line.substring(Math.max(0, line.indexOf(" : ") + 3)))
                    .orElse("nothing in the gateway log: a request it admitted and never settled or released");
            out.add(String.format("lease %s expires in %d s; %s", id, ((long) l.getScore() - nowMs) / 1000, said));
        }
        return out;
    }
}
