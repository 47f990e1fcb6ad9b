package dev.tokenbudget.store.redis;

import dev.tokenbudget.testing.Poll;

import java.io.IOException;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A Redis Cluster of three masters on loopback, started by the test: three redis-server
 * processes with {@code cluster-enabled yes} on free ports (and, if asked, replicas of each),
 * joined by {@code redis-cli --cluster create ... --cluster-yes}, torn down by {@link #close()}.
 */
public final class RedisTestCluster implements AutoCloseable {

    private final List<RedisTestServer> nodes;

    private RedisTestCluster(List<RedisTestServer> nodes) {
        this.nodes = nodes;
    }

    /** Starts three masters and waits until every node reports {@code cluster_state:ok}. */
    public static RedisTestCluster start() {
        return start(0, 5_000);
    }

    /**
     * Starts three masters with {@code replicas} replicas each ({@code cluster-node-timeout}
     * {@code nodeTimeoutMillis}: a master silent that long is failed over to its replica) and
     * waits until every node reports {@code cluster_state:ok} and every replica is in sync.
     */
    static RedisTestCluster start(int replicas, int nodeTimeoutMillis) {
        TestRedis.requireBinary("redis-server");
        TestRedis.requireBinary("redis-cli");
        List<RedisTestServer> nodes = new ArrayList<>();
        try {
            for (int i = 0; i < 3 * (1 + replicas); i++) {
                nodes.add(RedisTestServer.startClusterNode(nodeTimeoutMillis));
            }
            List<String> cmd = new ArrayList<>(List.of("redis-cli", "--cluster", "create"));
            for (RedisTestServer n : nodes) {
                cmd.add("127.0.0.1:" + n.port());
            }
            cmd.addAll(List.of("--cluster-replicas", Integer.toString(replicas), "--cluster-yes"));
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true)
                    .redirectOutput(nodes.get(0).dir().resolve("cluster-create.log").toFile()).start();
            if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new IllegalStateException("redis-cli --cluster create failed: "
                        + Files.readString(nodes.get(0).dir().resolve("cluster-create.log")));
            }
            RedisTestCluster cluster = new RedisTestCluster(nodes);
            cluster.awaitOk();
            if (replicas > 0) {
                Poll.await("every replica to sync with its master",
                        Duration.ofSeconds(60), Duration.ofMillis(25), () -> nodes.stream()
                        .map(n -> RedisTestSentinels.info(n, "replication"))
                        .allMatch(i -> i.contains("role:master") || i.contains("master_link_status:up")));
            }
            return cluster;
        } catch (IOException | RuntimeException | AssertionError e) {
            nodes.forEach(RedisTestServer::close);
            throw new IllegalStateException("cannot start a Redis Cluster: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            nodes.forEach(RedisTestServer::close);
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while starting a Redis Cluster", e);
        }
    }

    private void awaitOk() throws IOException, InterruptedException {
        for (int i = 0; i < 400; i++) {
            boolean ok = true;
            for (RedisTestServer n : nodes) {
                String info = n.command("CLUSTER", "INFO");
                ok &= info != null && info.contains("cluster_state:ok");
            }
            if (ok) {
                return;
            }
            Thread.sleep(25);
        }
        throw new IllegalStateException("the Redis Cluster did not reach cluster_state:ok");
    }

    /** Seed URIs of every node, comma-separated, as {@code store.redis.uri} takes them. */
    public String uris() {
        StringBuilder b = new StringBuilder();
        for (RedisTestServer n : nodes) {
            if (b.length() > 0) {
                b.append(',');
            }
            b.append(n.uri());
        }
        return b.toString();
    }

    public List<RedisTestServer> nodes() {
        return nodes;
    }

    /** The node that is master of the slot of hash tag {@code tag} now, asked of {@code via}. */
    RedisTestServer masterOf(String tag, RedisTestServer via) throws IOException {
        long slot = (Long) RedisTestServer.call(via.port(), "CLUSTER", "KEYSLOT", "{" + tag + "}");
        for (String line : via.command("CLUSTER", "NODES").split("\n")) {
            String[] f = line.trim().split(" ");
            if (f.length < 9 || !f[2].contains("master") || f[2].contains("fail")) {
                continue;
            }
            for (int i = 8; i < f.length; i++) {
                String[] range = f[i].split("-");
                if (range[0].startsWith("[")) {
                    continue; // a slot being migrated
                }
                long lo = Long.parseLong(range[0]);
                long hi = range.length > 1 ? Long.parseLong(range[1]) : lo;
                if (slot >= lo && slot <= hi) {
                    int port = Integer.parseInt(f[1].substring(f[1].indexOf(':') + 1, f[1].indexOf('@')));
                    return nodes.stream().filter(n -> n.port() == port).findFirst().orElseThrow();
                }
            }
        }
        throw new IllegalStateException("no master serves the slot of {" + tag + "} according to port " + via.port());
    }

    /** The replica of {@code master}, asked of {@code master}. */
    RedisTestServer replicaOf(RedisTestServer master) throws IOException {
        List<?> role = (List<?>) RedisTestServer.call(master.port(), "ROLE");
        List<?> replicas = (List<?>) role.get(2);
        int port = Integer.parseInt(((List<?>) replicas.get(0)).get(1).toString());
        return nodes.stream().filter(n -> n.port() == port).findFirst().orElseThrow();
    }

    @Override
    public void close() {
        nodes.forEach(RedisTestServer::close);
    }
}
