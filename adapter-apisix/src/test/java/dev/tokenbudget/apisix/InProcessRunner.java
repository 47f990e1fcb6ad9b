package dev.tokenbudget.apisix;

import org.springframework.boot.WebApplicationType;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The real APISIX plugin runner core (0.4.0), started in this JVM on a Unix socket in a fresh
 * directory, with the TokenBudget auto-configuration on its classpath. The runner's
 * {@code CommandLineRunner} serves until its thread is interrupted, so it runs on its own thread.
 */
final class InProcessRunner implements AutoCloseable {

    private final Path socket;
    private final Thread thread;
    private final AtomicReference<ConfigurableApplicationContext> context;

    private InProcessRunner(Path socket, Thread thread, AtomicReference<ConfigurableApplicationContext> context) {
        this.socket = socket;
        this.thread = thread;
        this.context = context;
    }

    static InProcessRunner start() throws IOException, InterruptedException {
        Path dir = Files.createTempDirectory("tb-apisix");
        Path socket = dir.resolve("runner.sock");
        AtomicReference<ConfigurableApplicationContext> context = new AtomicReference<>();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread t = new Thread(() -> {
            try {
                new SpringApplicationBuilder(RunnerTestApplication.class)
                        .web(WebApplicationType.NONE)
                        .initializers(context::set)
                        // what APISIX passes as APISIX_LISTEN_ADDRESS / APISIX_CONF_EXPIRE_TIME
                        .properties("socket.file=unix:" + socket, "cache.config.expired=3600",
                                "spring.main.banner-mode=off", "logging.level.io.netty=WARN",
                                // the settle endpoint on a free port (TOKENBUDGET_SETTLE_SECRET: the pom)
                                "tokenbudget.apisix.settle-port=0")
                        .run();
            } catch (Throwable e) {
                failure.set(e);
            }
        }, "apisix-runner");
        t.setDaemon(true);
        t.start();
        InProcessRunner runner = new InProcessRunner(socket, t, context);
        // bounded poll: the runner is up once its socket accepts a connection
        for (int i = 0; i < 1200; i++) {
            if (failure.get() != null) {
                throw new IllegalStateException("the plugin runner failed to start", failure.get());
            }
            if (A6Client.accepts(socket)) {
                return runner;
            }
            Thread.sleep(25);
        }
        runner.close();
        throw new IllegalStateException("the plugin runner did not listen on " + socket);
    }


    Path socket() {
        return socket;
    }

    A6Client client() {
        return new A6Client(socket);
    }

    <T> T bean(Class<T> type) {
        return context.get().getBean(type);
    }

    @Override
    public void close() throws InterruptedException {
        thread.interrupt();
        thread.join(30_000);
        ConfigurableApplicationContext c = context.get();
        if (c != null && c.isActive()) {
            c.close();
        }
    }
}
