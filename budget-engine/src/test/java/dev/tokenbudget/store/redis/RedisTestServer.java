package dev.tokenbudget.store.redis;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A redis-server process a test starts on a free loopback port, in its own temporary directory,
 * and may stop (as a crash would) and start again on the same port and data.
 */
public final class RedisTestServer implements AutoCloseable {

    private final int port;
    private final Path dir;
    private final List<String> extra;
    private Path configFile;
    private Process process;
    private int tlsPort;

    private RedisTestServer(int port, Path dir, List<String> extra) {
        this.port = port;
        this.dir = dir;
        this.extra = extra;
    }

    /** A Sentinel on a free port monitoring {@code master} as {@code mymaster} (quorum 1). */
    public static RedisTestServer startSentinel(RedisTestServer master) throws IOException {
        return startSentinel(master, 60_000, 180_000);
    }

    /**
     * A Sentinel on a free port monitoring {@code master} as {@code mymaster} (quorum 1) that takes
     * it for down after {@code downAfterMillis} without an answer and gives a failover
     * {@code failoverTimeoutMillis} (after a failed one it waits twice that before the next).
     */
    static RedisTestServer startSentinel(RedisTestServer master, long downAfterMillis, long failoverTimeoutMillis)
            throws IOException {
        TestRedis.requireBinary("redis-server");
        int port = freePort(false);
        Path dir = Files.createTempDirectory("tokenbudget-sentinel-" + port + "-");
        RedisTestServer s = new RedisTestServer(port, dir, List.of("--sentinel"));
        s.configFile = dir.resolve("sentinel.conf");
        Files.writeString(s.configFile, "sentinel monitor mymaster 127.0.0.1 " + master.port() + " 1\n"
                + "sentinel down-after-milliseconds mymaster " + downAfterMillis + "\n"
                + "sentinel failover-timeout mymaster " + failoverTimeoutMillis + "\n");
        s.restart();
        return s;
    }

    /**
     * Starts {@code redis-server} from the PATH with {@code extra} config arguments (such as
     * {@code --appendonly yes}); fails (CI) or skips the test when there is none.
     */
    public static RedisTestServer start(String... extra) {
        TestRedis.requireBinary("redis-server");
        try {
            int port = freePort(false);
            Path dir = Files.createTempDirectory("tokenbudget-redis-" + port + "-");
            RedisTestServer s = new RedisTestServer(port, dir, List.of(extra));
            s.restart();
            return s;
        } catch (IOException e) {
            throw new IllegalStateException("cannot start redis-server: " + e.getMessage(), e);
        }
    }

    /**
     * A server that listens for TLS too, on {@link #tlsPort()}, presenting {@code certificate}
     * ({@code tls-auth-clients} = {@code authClients}: no, optional or yes, client certificates
     * checked against {@code clientCa}). Its plain port stays open for the test's own probes
     * (PING, TIME, CONFIG SET); the store under test connects through TLS only.
     */
    static RedisTestServer startTls(TestCertificates.Pair certificate, Path clientCa, String authClients)
            throws IOException {
        TestRedis.requireBinary("redis-server");
        int port = freePort(false);
        int tls = freePort(false);
        Path dir = Files.createTempDirectory("tokenbudget-redis-tls-" + port + "-");
        RedisTestServer s = new RedisTestServer(port, dir, List.of("--tls-port", Integer.toString(tls),
                "--tls-cert-file", certificate.cert().toString(), "--tls-key-file", certificate.key().toString(),
                "--tls-ca-cert-file", clientCa.toString(), "--tls-auth-clients", authClients));
        s.tlsPort = tls;
        s.restart();
        return s;
    }

    /** Presents {@code certificate} on new TLS connections from now on ({@code CONFIG SET}, no restart). */
    void present(TestCertificates.Pair certificate) throws IOException {
        String reply = command("CONFIG", "SET", "tls-cert-file", certificate.cert().toString(), "tls-key-file",
                certificate.key().toString());
        if (!"+OK".equals(reply)) {
            throw new IOException("CONFIG SET tls-cert-file: " + reply);
        }
    }

    /** The TLS port, 0 when the server has none. */
    int tlsPort() {
        return tlsPort;
    }

    /** A node for a {@link RedisTestCluster}: cluster mode, its own port and bus port. */
    static RedisTestServer startClusterNode(int nodeTimeoutMillis) throws IOException {
        int port = freePort(true);
        Path dir = Files.createTempDirectory("tokenbudget-redis-cluster-" + port + "-");
        RedisTestServer s = new RedisTestServer(port, dir, List.of("--cluster-enabled", "yes", "--cluster-config-file",
                dir.resolve("nodes.conf").toString(), "--cluster-node-timeout", Integer.toString(nodeTimeoutMillis)));
        s.restart();
        return s;
    }

    /** (Re)starts the process on this server's port and directory and waits until it answers PING. */
    public synchronized void restart() throws IOException {
        if (process != null && process.isAlive()) {
            return;
        }
        List<String> cmd = new ArrayList<>(List.of("redis-server"));
        if (configFile != null) {
            cmd.add(configFile.toString());
        }
        cmd.addAll(List.of("--port", Integer.toString(port), "--bind",
                "127.0.0.1", "--dir", dir.toString(), "--save", "", "--daemonize", "no", "--protected-mode", "no",
                "--logfile", dir.resolve("redis.log").toString()));
        cmd.addAll(extra);
        process = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(dir.resolve("stdout.log").toFile()).start();
        awaitPing(port, process, dir);
    }

    /** Kills the process (SIGKILL, as a crash) and waits for it to be gone. */
    public synchronized void kill() throws InterruptedException {
        if (process != null) {
            process.destroyForcibly();
            process.waitFor(30, TimeUnit.SECONDS);
        }
    }

    public int port() {
        return port;
    }

    public String uri() {
        return "redis://127.0.0.1:" + port;
    }

    public Path dir() {
        return dir;
    }

    /** Sends one command over a plain socket and returns the first line of the reply. */
    public String command(String... args) throws IOException {
        return send(port, args);
    }

    @Override
    public void close() {
        try {
            kill();
            try (Stream<Path> files = Files.walk(dir)) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (IOException e) {
            // a temp directory left behind is harmless
        }
    }

    static void awaitPing(int port, Process process, Path dir) throws IOException {
        for (int i = 0; i < 400; i++) {
            if (!process.isAlive()) {
                throw new IllegalStateException("redis-server on port " + port + " exited: "
                        + Files.readString(dir.resolve("stdout.log")) + readLog(dir));
            }
            if (ping(port)) {
                return;
            }
            try {
                Thread.sleep(25);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted", e);
            }
        }
        throw new IllegalStateException("redis-server on port " + port + " did not answer PING" + readLog(dir));
    }

    private static String readLog(Path dir) throws IOException {
        Path log = dir.resolve("redis.log");
        return Files.exists(log) ? "\n" + Files.readString(log) : "";
    }

    static boolean ping(int port) {
        try {
            return "+PONG".equals(send(port, "PING"));
        } catch (IOException e) {
            return false;
        }
    }

    /** RESP over a socket: enough for PING, TIME, CLUSTER INFO without a client library. */
    static String send(int port, String... args) throws IOException {
        Object r = call(port, args);
        return r == null ? null : r.toString();
    }

    /** Redis server time in milliseconds. */
    public static long serverMillis(int port) throws IOException {
        List<?> t = (List<?>) call(port, "TIME");
        return Long.parseLong(t.get(0).toString()) * 1000 + Long.parseLong(t.get(1).toString()) / 1000;
    }

    /** One command; the reply as a String (simple, bulk or error), Long, or List of those. */
    static Object call(int port, String... args) throws IOException {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 1_000);
            s.setSoTimeout(10_000);
            StringBuilder b = new StringBuilder("*").append(args.length).append("\r\n");
            for (String a : args) {
                b.append('$').append(a.getBytes(StandardCharsets.UTF_8).length).append("\r\n")
                        .append(a).append("\r\n");
            }
            OutputStream out = s.getOutputStream();
            out.write(b.toString().getBytes(StandardCharsets.UTF_8));
            out.flush();
            return reply(s.getInputStream());
        }
    }

    private static Object reply(InputStream in) throws IOException {
        String line = line(in);
        char type = line.charAt(0);
        String rest = line.substring(1);
        switch (type) {
            case '$' -> {
                int len = Integer.parseInt(rest);
                if (len < 0) {
                    return null;
                }
                String body = new String(in.readNBytes(len), StandardCharsets.UTF_8);
                line(in);
                return body;
            }
            case '*' -> {
                int n = Integer.parseInt(rest);
                List<Object> items = new ArrayList<>();
                for (int i = 0; i < n; i++) {
                    items.add(reply(in));
                }
                return items;
            }
            case ':' -> {
                return Long.parseLong(rest);
            }
            default -> {
                return line;
            }
        }
    }

    private static String line(InputStream in) throws IOException {
        StringBuilder reply = new StringBuilder();
        int c;
        while ((c = in.read()) >= 0 && c != '\n') {
            if (c != '\r') {
                reply.append((char) c);
            }
        }
        if (c < 0 && reply.length() == 0) {
            throw new IOException("connection closed");
        }
        return reply.toString();
    }

    /** A loopback port free now (and, for a Cluster node, its bus port at +10000 too). */
    static int freePort(boolean withBusPort) throws IOException {
        for (int i = 0; i < 200; i++) {
            int port = ThreadLocalRandom.current().nextInt(20_000, 40_000);
            if (isFree(port) && (!withBusPort || isFree(port + 10_000))) {
                return port;
            }
        }
        throw new IOException("no free loopback port found");
    }

    private static boolean isFree(int port) {
        try (ServerSocket s = new ServerSocket()) {
            s.setReuseAddress(false);
            s.bind(new InetSocketAddress("127.0.0.1", port));
            return true;
        } catch (IOException e) {
            return false;
        }
    }
}
