package dev.tokenbudget.store.redis;

import java.io.IOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A Redis Cluster of three masters on loopback, started by the test: three redis-server
 * processes with {@code cluster-enabled yes} on free ports, joined by
 * {@code redis-cli --cluster create ... --cluster-yes}, torn down by {@link #close()}.
 */
public final class RedisTestCluster implements AutoCloseable {

    private final List<RedisTestServer> nodes;

    private RedisTestCluster(List<RedisTestServer> nodes) {
        this.nodes = nodes;
    }

    /** Starts the cluster and waits until every node reports {@code cluster_state:ok}. */
    public static RedisTestCluster start() {
        TestRedis.requireBinary("redis-server");
        TestRedis.requireBinary("redis-cli");
        List<RedisTestServer> nodes = new ArrayList<>();
        try {
            for (int i = 0; i < 3; i++) {
                nodes.add(RedisTestServer.startClusterNode());
            }
            List<String> cmd = new ArrayList<>(List.of("redis-cli", "--cluster", "create"));
            for (RedisTestServer n : nodes) {
                cmd.add("127.0.0.1:" + n.port());
            }
            cmd.addAll(List.of("--cluster-replicas", "0", "--cluster-yes"));
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true)
                    .redirectOutput(nodes.get(0).dir().resolve("cluster-create.log").toFile()).start();
            if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new IllegalStateException("redis-cli --cluster create failed: "
                        + Files.readString(nodes.get(0).dir().resolve("cluster-create.log")));
            }
            RedisTestCluster cluster = new RedisTestCluster(nodes);
            cluster.awaitOk();
            return cluster;
        } catch (IOException | RuntimeException e) {
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

    @Override
    public void close() {
        nodes.forEach(RedisTestServer::close);
    }
}
