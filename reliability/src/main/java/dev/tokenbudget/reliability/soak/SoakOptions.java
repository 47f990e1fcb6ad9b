package dev.tokenbudget.reliability.soak;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * The soak run's settings, from {@code --name value} arguments, each checked with a message that
 * names it.
 *
 * @param jar          the quickstart jar
 * @param duration     how long the load runs
 * @param concurrency  client threads
 * @param redis        the Redis URI the gateway's store uses (keys under a fresh prefix)
 * @param redisTimeout the store's command timeout, as the config writes it ({@code 1s})
 * @param blocks       token blocks of up to this many requests ({@code store.redis.blocks.max_requests}),
 *                     0 for none (each decision one Redis call)
 * @param sampleEvery  time between heap samples
 * @param users        distinct end users of the key with per-user budgets
 * @param javaOpts     JVM options of the gateway
 * @param out          directory for the config, the gateway's log and the report
 */
record SoakOptions(Path jar, Duration duration, int concurrency, String redis, String redisTimeout, int blocks,
                   Duration sampleEvery, int users, List<String> javaOpts, Path out) {

    static final String USAGE = """
            usage: soak.sh [--minutes N] [--seconds N] [--concurrency N] [--redis URI] [--redis-timeout 1s]
                           [--blocks N] [--sample-seconds N] [--users N] [--java-opts "-Xmx512m ..."] [--out DIR] [--jar PATH]
              defaults: 5 minutes, 64 clients, redis://127.0.0.1:6379, 1s, no token blocks, a heap sample every 30 s, 1000 users,
                        -Xmx512m, reliability/target/soak, examples/quickstart/target/tokenbudget-quickstart.jar""";

    static SoakOptions parse(String[] args) {
        Path jar = Path.of("examples/quickstart/target/tokenbudget-quickstart.jar");
        Duration duration = Duration.ofMinutes(5);
        int concurrency = 64;
        String redis = "redis://127.0.0.1:6379";
        String timeout = "1s";
        int blocks = 0;
        Duration every = Duration.ofSeconds(30);
        int users = 1000;
        List<String> javaOpts = List.of("-Xmx512m");
        Path out = Path.of("reliability/target/soak");
        for (int i = 0; i < args.length; i += 2) {
            String name = args[i];
            if (i + 1 >= args.length) {
                throw new IllegalArgumentException(name + " needs a value");
            }
            String v = args[i + 1];
            switch (name) {
                case "--minutes" -> duration = Duration.ofMinutes(positive(name, v));
                case "--seconds" -> duration = Duration.ofSeconds(positive(name, v));
                case "--concurrency" -> concurrency = positive(name, v);
                case "--redis" -> redis = requireScheme(v);
                case "--redis-timeout" -> timeout = requireDuration(v);
                case "--blocks" -> blocks = atLeast(name, v, 2);
                case "--sample-seconds" -> every = Duration.ofSeconds(positive(name, v));
                case "--users" -> users = positive(name, v);
                case "--java-opts" -> javaOpts = v.isBlank() ? List.of() : List.of(v.trim().split("\\s+"));
                case "--out" -> out = Path.of(v);
                case "--jar" -> jar = Path.of(v);
                default -> throw new IllegalArgumentException("unknown option " + name);
            }
        }
        if (!Files.isRegularFile(jar)) {
            throw new IllegalArgumentException("--jar: no quickstart jar at " + jar + " (soak.sh builds it)");
        }
        return new SoakOptions(jar, duration, concurrency, redis, timeout, blocks, every, users, javaOpts, out);
    }

    private static int positive(String name, String v) {
        return atLeast(name, v, 1);
    }

    private static int atLeast(String name, String v, int min) {
        try {
            int n = Integer.parseInt(v);
            if (n >= min) {
                return n;
            }
        } catch (NumberFormatException e) {
            // below
        }
        throw new IllegalArgumentException(name + " must be a whole number >= " + min + ", was '" + v + "'");
    }

    private static String requireScheme(String v) {
        if (!v.matches("rediss?://\\S+")) {
            throw new IllegalArgumentException("--redis must be a redis:// or rediss:// URI, was '" + v + "'");
        }
        return v;
    }

    private static String requireDuration(String v) {
        if (!v.matches("\\d+(ms|s)")) {
            throw new IllegalArgumentException("--redis-timeout must be a duration such as 500ms or 1s, was '" + v + "'");
        }
        return v;
    }
}
