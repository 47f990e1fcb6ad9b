package dev.tokenbudget.bench.gateway;

import dev.tokenbudget.fake.FakeProvider;
import dev.tokenbudget.fake.StreamPacer;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;

/**
 * The benchmark's upstream: the project's fake provider with a short answer and streams paced by
 * {@code chunkMillis} between chunks (0: as fast as it can write), until the process is stopped.
 *
 * <pre>FakeUpstreamMain PORT REPLY_TOKENS TOKENS_PER_CHUNK CHUNK_MILLIS</pre>
 */
public final class FakeUpstreamMain {

    private FakeUpstreamMain() {
    }

    public static void main(String[] args) throws InterruptedException {
        // the JDK's HTTP server leaves Nagle on unless told: its header and body writes then wait for
        // a delayed ACK (~40 ms per request on loopback), which would make the upstream the bottleneck
        System.setProperty("sun.net.httpserver.nodelay", "true");
        int port = Integer.parseInt(args[0]);
        FakeProvider fake = FakeProvider.start(port)
                .replyTokens(Integer.parseInt(args[1]))
                .tokensPerChunk(Integer.parseInt(args[2]))
                .pacer(StreamPacer.fixed(Duration.ofMillis(Long.parseLong(args[3]))));
        Runtime.getRuntime().addShutdownHook(new Thread(fake::close));
        System.out.println("fake upstream on " + fake.baseUrl());
        new CountDownLatch(1).await();
    }
}
