package dev.tokenbudget.bench.gateway;

import dev.tokenbudget.bench.Stats;
import dev.tokenbudget.fake.FakeProvider;
import dev.tokenbudget.fake.RecordedExchange;
import dev.tokenbudget.fake.StreamPacer;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A soak for streams that never finish (not a test): {@code concurrency} clients open one
 * streamed chat completion after another through one gateway variant ({@link GatewayBenchApp},
 * default {@code memory}: TokenBudget in memory) for {@code seconds}, in front of the fake provider
 * run in this JVM (256 tokens, 4 a chunk, unpaced: the gateway bench's upstream), all on loopback.
 * Every {@code cancelEvery}-th stream (0: none) is closed by its client after a random part of it.
 * Each stream carries its number in {@code X-Soak-Id}, which the gateway forwards, so a stream that
 * goes silent for {@code silenceSeconds} is reported with both ends of it: what the client
 * received (bytes, events, whether {@code [DONE]} came), what the upstream sent for that id
 * (whether it completed and wrote {@code [DONE]}), the loopback connections' queues ({@code ss})
 * and the gateway's threads ({@code jcmd Thread.print}), in {@code OUT_DIR/stall-ID.txt}; the
 * stuck client is left as it is and another takes its place. With {@code burstSeconds} above 0 the
 * load comes as the gateway bench's runs do: bursts of that long, each on a new HTTP client (new
 * connections, the old ones left idle), {@code idleSeconds} apart. Exit status 1 when any stream
 * stalled or failed.
 *
 * <pre>bench/stream-soak.sh [SECONDS] [CONCURRENCY] [CANCEL_EVERY] [PORT] [VARIANT] [OUT_DIR] [SILENCE_SECONDS]
 *     [BURST_SECONDS] [IDLE_SECONDS]</pre>
 */
public final class StreamSoak {

    private static final byte[] DONE = "data: [DONE]".getBytes(StandardCharsets.US_ASCII);

    /** One client's current stream, as the watchdog sees it. */
    private static final class Slot {
        volatile long id = -1;
        volatile long lastByteNanos;
        volatile long bytes;
        volatile long events;
        volatile boolean open;
        volatile boolean reported;
        /** The last bytes received, for the report. */
        final byte[] tail = new byte[256];
        volatile int tailLen;
    }

    private final String url;
    private final Path out;
    private final int cancelEvery;
    private final long silenceNanos;
    private final FakeProvider fake;
    private final Process gateway;
    /** The clients' HTTP client; in bursts, a new one (new connections) for each burst, as each bench run has. */
    private volatile HttpClient client = newClient();
    /** Between bursts: no new streams. */
    private volatile boolean paused;
    private final AtomicBoolean stop = new AtomicBoolean();
    private final AtomicLong nextId = new AtomicLong();
    private final AtomicLong finished = new AtomicLong();
    private final AtomicLong cancelled = new AtomicLong();
    private final AtomicLong events = new AtomicLong();
    private final AtomicLong failures = new AtomicLong();
    private final AtomicInteger stalls = new AtomicInteger();
    private final List<Slot> slots = new ArrayList<>();
    private final List<Thread> threads = new ArrayList<>();

    private StreamSoak(String url, Path out, int cancelEvery, long silenceNanos, FakeProvider fake, Process gateway) {
        this.url = url;
        this.out = out;
        this.cancelEvery = cancelEvery;
        this.silenceNanos = silenceNanos;
        this.fake = fake;
        this.gateway = gateway;
    }

    public static void main(String[] args) throws Exception {
        int seconds = args.length > 0 ? Integer.parseInt(args[0]) : 600;
        int concurrency = args.length > 1 ? Integer.parseInt(args[1]) : 8;
        int cancelEvery = args.length > 2 ? Integer.parseInt(args[2]) : 0;
        int port = args.length > 3 ? Integer.parseInt(args[3]) : 18280;
        String variant = args.length > 4 ? args[4] : "memory";
        Path out = Path.of(args.length > 5 ? args[5] : "bench/target/stream-soak");
        int silence = args.length > 6 ? Integer.parseInt(args[6]) : 10;
        int burst = args.length > 7 ? Integer.parseInt(args[7]) : 0;
        int idle = args.length > 8 ? Integer.parseInt(args[8]) : 0;
        Files.createDirectories(out);
        int upstreamPort = port + 1;
        FakeProvider fake = FakeProvider.start(upstreamPort).replyTokens(256).tokensPerChunk(4)
                .pacer(StreamPacer.fixed(Duration.ZERO));
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), "-Xms256m", "-Xmx256m"));
        String extra = System.getenv().getOrDefault("GATEWAY_JAVA_OPTS", "").strip();
        if (!extra.isEmpty()) {
            cmd.addAll(List.of(extra.split("\\s+"))); // e.g. -Dio.netty.leakDetection.level=paranoid
        }
        cmd.addAll(List.of(GatewayBenchApp.class.getName(), "--spring.profiles.active=" + variant,
                "--server.port=" + port, "--bench.upstream=http://127.0.0.1:" + upstreamPort));
        Process gw = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(out.resolve("gateway.log").toFile())
                .start();
        Runtime.getRuntime().addShutdownHook(new Thread(gw::destroyForcibly));
        StreamSoak soak = new StreamSoak("http://127.0.0.1:" + port + "/v1/chat/completions", out, cancelEvery,
                TimeUnit.SECONDS.toNanos(silence), fake, gw);
        int status;
        try {
            status = soak.run(variant, seconds, concurrency, burst, idle);
        } finally {
            gw.destroy();
            if (!gw.waitFor(10, TimeUnit.SECONDS)) {
                gw.destroyForcibly();
            }
            fake.close();
        }
        System.exit(status);
    }

    private static HttpClient newClient() {
        return HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5)).build();
    }

    private int run(String variant, int seconds, int concurrency, int burst, int idle) throws Exception {
        GatewayBench.awaitReady(variant, url);
        System.out.printf("soak: variant %s (gateway pid %d), %d clients, %d s, cancel every %s, silence %d s, "
                + "bursts %s, load %s%n", variant, gateway.pid(), concurrency, seconds,
                cancelEvery == 0 ? "none" : cancelEvery, TimeUnit.NANOSECONDS.toSeconds(silenceNanos),
                burst == 0 ? "none" : burst + " s every " + (burst + idle) + " s", Stats.load());
        long begin = System.nanoTime();
        for (int i = 0; i < concurrency; i++) {
            startClient();
        }
        long end = begin + TimeUnit.SECONDS.toNanos(seconds);
        long nextLine = begin;
        long nextPause = burst == 0 ? Long.MAX_VALUE : begin + TimeUnit.SECONDS.toNanos(burst);
        long resume = Long.MAX_VALUE;
        while (System.nanoTime() < end && gateway.isAlive()) {
            watch();
            if (System.nanoTime() >= nextPause) {
                paused = true;
                resume = nextPause + TimeUnit.SECONDS.toNanos(idle);
                nextPause = Long.MAX_VALUE;
            } else if (System.nanoTime() >= resume) {
                client = newClient();
                paused = false;
                nextPause = resume + TimeUnit.SECONDS.toNanos(burst);
                resume = Long.MAX_VALUE;
            }
            if (System.nanoTime() >= nextLine) {
                progress(begin);
                nextLine += TimeUnit.SECONDS.toNanos(60);
            }
            Thread.sleep(100);
        }
        stop.set(true);
        // the streams open now finish, or go silent and are reported
        long drain = System.nanoTime() + silenceNanos + TimeUnit.SECONDS.toNanos(5);
        while (System.nanoTime() < drain && anyOpen()) {
            watch();
            Thread.sleep(200);
        }
        watch();
        double elapsed = (System.nanoTime() - begin) / 1e9;
        var tally = fake.tally();
        System.out.printf("SOAK variant=%s started=%d finished=%d cancelled=%d failed=%d stalls=%d events=%d "
                + "in %.0f s (%.0f streams/s); upstream: %d requests, %d completed, %d aborted | load %s%n", variant,
                nextId.get(), finished.get(), cancelled.get(), failures.get(), stalls.get(), events.get(), elapsed,
                nextId.get() / elapsed, tally.requests(), tally.completed(), tally.aborted(), Stats.load());
        return stalls.get() > 0 || failures.get() > 0 ? 1 : 0;
    }

    private void startClient() {
        Slot slot = new Slot();
        Thread t = new Thread(() -> clientLoop(slot), "soak-client-" + slots.size());
        t.setDaemon(true); // a stalled stream must not keep the soak alive
        synchronized (slots) {
            slots.add(slot);
            threads.add(t);
        }
        t.start();
    }

    private void clientLoop(Slot slot) {
        byte[] buf = new byte[8192];
        while (!stop.get()) {
            if (paused) {
                try {
                    Thread.sleep(20);
                } catch (InterruptedException e) {
                    return;
                }
                continue;
            }
            long id = nextId.getAndIncrement();
            long cancelAt = cancelEvery > 0 && id % cancelEvery == cancelEvery - 1
                    ? ThreadLocalRandom.current().nextLong(1, 14_000) : Long.MAX_VALUE;
            slot.bytes = 0;
            slot.events = 0;
            slot.tailLen = 0;
            slot.lastByteNanos = System.nanoTime();
            slot.id = id;
            slot.open = true;
            HttpRequest request = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(30))
                    .header("Content-Type", "application/json").header("Authorization", "Bearer sk-bench")
                    .header("X-Soak-Id", Long.toString(id))
                    .POST(HttpRequest.BodyPublishers.ofString(StreamLoad.BODY)).build();
            try {
                HttpResponse<InputStream> r = client.send(request, HttpResponse.BodyHandlers.ofInputStream());
                try (InputStream in = r.body()) {
                    if (r.statusCode() != 200) {
                        throw new IllegalStateException("HTTP " + r.statusCode() + ": " + new String(in.readAllBytes()));
                    }
                    int prev = 0;
                    int read;
                    while (slot.bytes < cancelAt && (read = in.read(buf)) > 0) {
                        slot.lastByteNanos = System.nanoTime();
                        for (int i = 0; i < read; i++) {
                            if (buf[i] == '\n' && prev == '\n') {
                                slot.events++;
                            }
                            if (buf[i] != '\r') {
                                prev = buf[i];
                            }
                        }
                        keepTail(slot, buf, read);
                        slot.bytes += read;
                    }
                }
                events.addAndGet(slot.events);
                (slot.bytes >= cancelAt ? cancelled : finished).incrementAndGet();
            } catch (IOException | RuntimeException e) {
                if (failures.incrementAndGet() <= 5) {
                    System.out.println("stream " + id + " failed: " + e);
                }
            } catch (InterruptedException e) {
                return;
            } finally {
                slot.open = false;
            }
        }
    }

    private static void keepTail(Slot slot, byte[] buf, int n) {
        byte[] tail = slot.tail;
        if (n >= tail.length) {
            System.arraycopy(buf, n - tail.length, tail, 0, tail.length);
            slot.tailLen = tail.length;
            return;
        }
        int keep = Math.min(slot.tailLen, tail.length - n);
        System.arraycopy(tail, slot.tailLen - keep, tail, 0, keep);
        System.arraycopy(buf, 0, tail, keep, n);
        slot.tailLen = keep + n;
    }

    private boolean anyOpen() {
        synchronized (slots) {
            return slots.stream().anyMatch(s -> s.open && !s.reported);
        }
    }

    /** Reports each stream silent for longer than the silence allowed, once, and puts a client in its place. */
    private void watch() throws IOException, InterruptedException {
        List<Slot> now;
        synchronized (slots) {
            now = List.copyOf(slots);
        }
        for (Slot s : now) {
            if (s.open && !s.reported && System.nanoTime() - s.lastByteNanos > silenceNanos) {
                s.reported = true;
                stalls.incrementAndGet();
                report(s);
                if (!stop.get()) {
                    startClient();
                }
            }
        }
    }

    private void report(Slot s) throws IOException, InterruptedException {
        long id = s.id;
        StringBuilder r = new StringBuilder();
        byte[] tail = java.util.Arrays.copyOf(s.tail, s.tailLen);
        r.append(String.format("stream %d silent for %.1f s; client received %d bytes, %d events, [DONE] %s%n",
                id, (System.nanoTime() - s.lastByteNanos) / 1e9, s.bytes, s.events, contains(tail, DONE)));
        r.append("client's last bytes: ").append(new String(tail, StandardCharsets.UTF_8).replace("\n", "\\n"))
                .append('\n');
        RecordedExchange up = null;
        for (RecordedExchange e : fake.exchanges()) {
            if (Long.toString(id).equals(e.request().header("X-Soak-Id"))) {
                up = e;
            }
        }
        if (up == null) {
            r.append("upstream: no exchange recorded for this id (not received, or older than the fake keeps)\n");
        } else {
            byte[] sent = up.sentBody();
            r.append(String.format("upstream: %s; sent %d body bytes, [DONE] %s%n", up, sent.length,
                    contains(sent, DONE)));
        }
        r.append("\n$ ss -tnoi (gateway and upstream ports)\n").append(command("ss", "-tnoi", "state", "established",
                "( sport = :" + URI.create(url).getPort() + " or dport = :" + URI.create(url).getPort()
                        + " or sport = :" + fake.port() + " or dport = :" + fake.port() + " )"));
        r.append("\n$ jcmd ").append(gateway.pid()).append(" Thread.print\n")
                .append(command(Path.of(System.getProperty("java.home"), "bin", "jcmd").toString(),
                        Long.toString(gateway.pid()), "Thread.print"));
        Path file = out.resolve("stall-" + id + ".txt");
        Files.writeString(file, r);
        System.out.printf("STALL stream %d: client %d bytes, [DONE] %s; %s; details in %s%n", id, s.bytes,
                contains(tail, DONE), up == null ? "upstream: not recorded" : "upstream: " + up, file);
    }

    private void progress(long begin) {
        System.out.printf("  %4.0f s: %d streams (%d finished, %d cancelled, %d failed), %d stalls | load %s%n",
                (System.nanoTime() - begin) / 1e9, nextId.get(), finished.get(), cancelled.get(), failures.get(),
                stalls.get(), Stats.load());
    }

    private static boolean contains(byte[] hay, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= hay.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (hay[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return true;
        }
        return false;
    }

    private static String command(String... cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String text = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor(30, TimeUnit.SECONDS);
        return text;
    }
}
