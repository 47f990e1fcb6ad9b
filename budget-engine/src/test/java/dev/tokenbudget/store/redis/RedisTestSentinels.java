package dev.tokenbudget.store.redis;

import dev.tokenbudget.testing.Poll;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * A Sentinel deployment on loopback, started by the test: a master, one replica of it and
 * {@code n} sentinels monitoring it as {@code mymaster} (quorum 1, a failover needs the votes of a
 * majority of the sentinels), with short down-after and failover timeouts so that a killed master
 * is replaced in seconds (the first sentinel's down-after is the one given, each next one's 1.5 s
 * more). Torn down by {@link #close()}.
 */
final class RedisTestSentinels implements AutoCloseable {

    static final String NAME = "mymaster";

    private final RedisTestServer master;
    private final RedisTestServer replica;
    private final List<RedisTestServer> sentinels;

    private RedisTestSentinels(RedisTestServer master, RedisTestServer replica, List<RedisTestServer> sentinels) {
        this.master = master;
        this.replica = replica;
        this.sentinels = sentinels;
    }

    /** Starts everything and waits until each sentinel knows the replica and the other sentinels. */
    static RedisTestSentinels start(int n, long downAfterMillis, long failoverTimeoutMillis) {
        RedisTestServer master = RedisTestServer.start();
        List<RedisTestServer> started = new ArrayList<>(List.of(master));
        try {
            RedisTestServer replica = RedisTestServer.start("--replicaof", "127.0.0.1", Integer.toString(master.port()));
            started.add(replica);
            Poll.await("the replica to sync with the master", Duration.ofSeconds(30), Duration.ofMillis(25),
                    () -> info(replica, "replication").contains("master_link_status:up"));
            List<RedisTestServer> sentinels = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                // staggered: sentinels that see the master down at the same moment each vote for
                // themselves, and a split vote is retried only after twice the failover timeout;
                // staggered, the first asks alone and the others vote for it
                RedisTestServer s = RedisTestServer.startSentinel(master, downAfterMillis + i * 1_500L,
                        failoverTimeoutMillis);
                started.add(s);
                sentinels.add(s);
            }
            RedisTestSentinels d = new RedisTestSentinels(master, replica, sentinels);
            // sentinels find each other through the master's hello channel, every 2 s
            Poll.await("the sentinels to know the replica and each other",
                    Duration.ofSeconds(60), Duration.ofMillis(50), () -> {
                for (RedisTestServer s : sentinels) {
                    if (listSize(s, "SENTINEL", "REPLICAS", NAME) < 1 || listSize(s, "SENTINEL", "SENTINELS", NAME) < n - 1) {
                        return false;
                    }
                }
                return true;
            });
            return d;
        } catch (IOException | RuntimeException | AssertionError e) {
            started.forEach(RedisTestServer::close);
            throw new IllegalStateException("cannot start a Redis Sentinel deployment: " + e.getMessage(), e);
        }
    }

    /** {@code redis-sentinel://} URI listing every sentinel, as {@code store.redis.uri} takes it. */
    String uri() {
        StringBuilder b = new StringBuilder("redis-sentinel://");
        for (int i = 0; i < sentinels.size(); i++) {
            b.append(i == 0 ? "" : ",").append("127.0.0.1:").append(sentinels.get(i).port());
        }
        return b.append('#').append(NAME).toString();
    }

    RedisTestServer master() {
        return master;
    }

    RedisTestServer replica() {
        return replica;
    }

    /** The port every sentinel names as the master now, or -1 while they disagree or cannot be asked. */
    int agreedMasterPort() {
        int agreed = -1;
        for (RedisTestServer s : sentinels) {
            try {
                List<?> addr = (List<?>) RedisTestServer.call(s.port(), "SENTINEL", "GET-MASTER-ADDR-BY-NAME", NAME);
                int port = Integer.parseInt(addr.get(1).toString());
                if (agreed != -1 && agreed != port) {
                    return -1;
                }
                agreed = port;
            } catch (IOException | RuntimeException e) {
                return -1;
            }
        }
        return agreed;
    }

    /** INFO {@code section} of {@code server}, empty when it cannot be asked. */
    static String info(RedisTestServer server, String section) {
        try {
            String s = server.command("INFO", section);
            return s == null ? "" : s;
        } catch (IOException e) {
            return "";
        }
    }

    private static int listSize(RedisTestServer s, String... command) {
        try {
            Object r = RedisTestServer.call(s.port(), command);
            return r instanceof List<?> l ? l.size() : -1;
        } catch (IOException e) {
            return -1;
        }
    }

    /** The sentinels' logs, for a failure message. */
    String sentinelLogs() {
        StringBuilder b = new StringBuilder();
        for (RedisTestServer s : sentinels) {
            try {
                b.append("--- sentinel ").append(s.port()).append('\n')
                        .append(java.nio.file.Files.readString(s.dir().resolve("redis.log")));
            } catch (IOException e) {
                b.append("(no log: ").append(e.getMessage()).append(")\n");
            }
        }
        return b.toString();
    }

    @Override
    public void close() {
        sentinels.forEach(RedisTestServer::close);
        replica.close();
        master.close();
    }
}
