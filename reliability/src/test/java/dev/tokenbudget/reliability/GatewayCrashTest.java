package dev.tokenbudget.reliability;

import dev.tokenbudget.engine.BudgetEngine;
import dev.tokenbudget.event.BudgetEvent;
import dev.tokenbudget.fake.FakeProvider;
import dev.tokenbudget.fake.ReportedUsage;
import dev.tokenbudget.store.TokenCounts;
import dev.tokenbudget.store.redis.RedisTestServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A gateway instance killed mid-stream (SIGKILL of its JVM) while another instance on the same
 * Redis keeps serving the same budget tree: the dead instance's reservations stay in Redis until
 * their leases expire, then are charged at the reservation (never less), exactly once, by the
 * survivor's sweep; the survivor's own traffic flows throughout and is counted exactly.
 */
@SpringBootTest(classes = ReliabilityGatewayApp.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
        properties = {"spring.config.name=reliability-gateway", "tokenbudget.lease-sweep-interval=200ms"})
class GatewayCrashTest {

    private static final String DEAD = "vk-rel-crash-dead";
    private static final String LIVE = "vk-rel-crash-live";
    private static final int HELD_STREAMS = 3;

    static RedisTestServer redis;
    static String config;
    static final Gate GATE = new Gate(2);
    /** The dying instance's upstream, which can hold its streams mid-response. */
    static final FakeProvider DYING_UPSTREAM = FakeProvider.start(0)
            .requireApiKey(ReliabilityGatewayApp.UPSTREAM_OPENAI_KEY).replyTokens(16).tokensPerChunk(2).pacer(GATE);
    /** The surviving instance's upstream. */
    static final FakeProvider UPSTREAM = FakeProvider.start(0).requireApiKey(ReliabilityGatewayApp.UPSTREAM_OPENAI_KEY)
            .replyTokens(16).tokensPerChunk(2).pacer(index -> true);

    @BeforeAll
    static void startRedis() {
        redis = RedisTestServer.start();
    }

    @AfterAll
    static void stop() {
        DYING_UPSTREAM.close();
        UPSTREAM.close();
        if (redis != null) {
            redis.close();
        }
    }

    static String config() {
        if (config == null) {
            config = EngineYaml.file("""
                    lease_ttl: 5s
                    store:
                      type: redis
                      redis: {uri: "%s", timeout: 2s, key_prefix: tb-rel-crash}
                    defaults: {zone: UTC}
                    providers:
                      openai: {api_key_env: REL_OPENAI_KEY}
                    budgets:
                      - {id: crash-org, windows: [{period: month, limits: {total: 1B}}]}
                      - {id: crash-dead, parent: crash-org, windows: [{period: month, limits: {total: 100M}}]}
                      - {id: crash-live, parent: crash-org, windows: [{period: month, limits: {total: 100M}}]}
                    keys:
                    """.formatted(redis.uri()) + EngineYaml.key("dead", DEAD, "crash-dead", "")
                    + EngineYaml.key("live", LIVE, "crash-live", ""));
        }
        return config;
    }

    @DynamicPropertySource
    static void properties(DynamicPropertyRegistry r) {
        r.add("rel.upstream.openai", UPSTREAM::baseUrl);
        r.add("tokenbudget.config", GatewayCrashTest::config);
    }

    @LocalServerPort
    int port;

    @Autowired
    BudgetEngine engine;

    @Test
    void aKilledInstancesLeasesExpireAtTheirReservationAndTheOtherInstanceIsUnaffected() throws Exception {
        Queue<BudgetEvent> events = new ConcurrentLinkedQueue<>();
        engine.subscribe(events::add);
        AtomicReference<String> phase = new AtomicReference<>("both-up");
        Queue<LoadWorker.Outcome> survivor = LoadWorker.queue();
        List<LoadWorker> workers = new ArrayList<>();
        String url = "http://127.0.0.1:" + port;
        Queue<LoadWorker.Outcome> dying = LoadWorker.queue();
        Queue<Throwable> cut = new ConcurrentLinkedQueue<>();
        List<Thread> held = new ArrayList<>();
        GatewayProcess victim = GatewayProcess.start("--rel.upstream.openai=" + DYING_UPSTREAM.baseUrl(),
                "--tokenbudget.config=" + config(), "--tokenbudget.lease-sweep-interval=200ms");
        try {
            // warm the survivor's request path before the lease clock matters
            for (int i = 0; i < 3; i++) {
                int id = LoadWorker.IDS.incrementAndGet();
                String body = Http.chat(String.format("req-%06d", id), 1000 + id, i == 1);
                survivor.add(new LoadWorker.Outcome(id, LIVE, i == 1, 1000 + id, body,
                        Http.post(url + "/v1/chat/completions", body, "Authorization", "Bearer " + LIVE), "both-up"));
            }
            workers.add(new LoadWorker(url, LIVE, false, phase::get, survivor).start());
            workers.add(new LoadWorker(url, LIVE, true, phase::get, survivor).start());
            // the instance to die settles some requests normally first
            for (int i = 0; i < 5; i++) {
                int id = LoadWorker.IDS.incrementAndGet();
                String body = Http.chat(String.format("req-%06d", id), 1000 + id, i % 2 == 0);
                dying.add(new LoadWorker.Outcome(id, DEAD, i % 2 == 0, 1000 + id, body,
                        Http.post(victim.url() + "/v1/chat/completions", body, "Authorization", "Bearer " + DEAD),
                        "both-up"));
            }
            Http.await("the dying instance's settlements", () -> reserved("crash-dead") == 0);

            // streams through the dying instance, held after their first chunks
            GATE.close();
            Map<Integer, String> heldBodies = new HashMap<>();
            for (int i = 0; i < HELD_STREAMS; i++) {
                int id = LoadWorker.IDS.incrementAndGet();
                String body = Http.chat(String.format("req-%06d", id), 1000 + id, true);
                heldBodies.put(id, body);
                Thread t = new Thread(() -> {
                    try {
                        Http.post(victim.url() + "/v1/chat/completions", body, "Authorization", "Bearer " + DEAD);
                    } catch (RuntimeException e) {
                        cut.add(e);
                    }
                }, "held-stream-" + id);
                t.start();
                held.add(t);
            }
            long heldReservation = heldBodies.entrySet().stream()
                    .mapToLong(e -> Reservations.inputEstimate(e.getValue()) + 1000 + e.getKey()).sum();
            Http.await("the held streams are reserved in Redis", () -> GATE.waiting() == HELD_STREAMS
                    && reserved("crash-dead") == heldReservation);
            long survivorBefore = survivor.size();

            victim.kill();
            phase.set("one-dead");
            GATE.open();
            for (Thread t : held) {
                t.join(60_000);
            }
            Http.await("the dead instance's leases expired", () -> reserved("crash-dead") == 0);
            Http.await("the survivor served during the crash and after", () -> survivor.size() > survivorBefore + 10);
            for (LoadWorker w : workers) {
                w.stop();
            }
            Http.await("the survivor's settlements", () -> reserved("crash-live") == 0);

            assertThat(cut).as("the clients of the dead instance lost their streams").hasSize(HELD_STREAMS);
            List<BudgetEvent.LeaseExpired> expired = expired(events, "crash-dead");
            assertThat(expired).as("exactly the held streams' leases expired, once each").hasSize(HELD_STREAMS)
                    .allSatisfy(e -> {
                        int id = (int) (e.charged().output() - 1000);
                        assertThat(heldBodies).containsKey(id);
                        assertThat(e.charged()).as("charged at its reservation")
                                .isEqualTo(TokenCounts.of(Reservations.inputEstimate(heldBodies.get(id)), 1000 + id));
                        assertThat(e.budgetIds()).containsExactly("crash-dead", "crash-org");
                    });
            assertThat(expired).extracting(BudgetEvent.LeaseExpired::leaseId).doesNotHaveDuplicates();

            Map<Integer, ReportedUsage> reportedDying = Reservations.reportedById(DYING_UPSTREAM);
            Map<Integer, ReportedUsage> reportedSurvivor = Reservations.reportedById(UPSTREAM);
            TokenCounts dead = settled(dying, reportedDying).plus(TokenCounts.of(
                    expired.stream().mapToLong(e -> e.charged().input()).sum(),
                    expired.stream().mapToLong(e -> e.charged().output()).sum()));
            assertThat(survivor).as("the survivor answered every request, counted")
                    .allMatch(o -> o.response().status() == 200 && o.counted());
            assertThat(survivor).filteredOn(o -> o.phase().equals("one-dead")).isNotEmpty();
            // a survivor response slower than the lease (a cold JVM on a loaded machine) is charged
            // at its reservation instead of its usage: documented, and counted once either way
            List<BudgetEvent.LeaseExpired> slow = expired(events, "crash-live");
            Map<Integer, BudgetEvent.LeaseExpired> slowById = new HashMap<>();
            slow.forEach(e -> slowById.put((int) (e.charged().output() - 1000), e));
            TokenCounts live = settled(survivor.stream().filter(o -> !slowById.containsKey(o.id())).toList(),
                    reportedSurvivor);
            for (BudgetEvent.LeaseExpired e : slow) {
                assertThat(survivor).anyMatch(o -> o.id() == (int) (e.charged().output() - 1000));
                live = live.plus(e.charged());
            }
            assertThat(used("crash-dead")).isEqualTo(dead);
            assertThat(used("crash-live")).as("the survivor's traffic, counted exactly").isEqualTo(live);
            assertThat(used("crash-org")).isEqualTo(dead.plus(live));
            System.out.printf("crash: %d settled + %d held streams on the killed instance (charged %s at their "
                            + "reservation on expiry), %d requests on the survivor (%d while the other was dead), "
                            + "%d of them outlived their lease; crash-dead used %s, crash-live used %s%n", dying.size(),
                    HELD_STREAMS, expired.stream().map(e -> e.charged().total()).toList(), survivor.size(),
                    survivor.stream().filter(o -> o.phase().equals("one-dead")).count(), slow.size(), dead, live);
        } finally {
            GATE.open();
            for (LoadWorker w : workers) {
                w.stop();
            }
            victim.close();
        }
    }

    private static List<BudgetEvent.LeaseExpired> expired(Queue<BudgetEvent> events, String budget) {
        return events.stream().filter(e -> e instanceof BudgetEvent.LeaseExpired le && le.budgetId().equals(budget))
                .map(e -> (BudgetEvent.LeaseExpired) e).toList();
    }

    private static TokenCounts settled(java.util.Collection<LoadWorker.Outcome> outcomes,
                                       Map<Integer, ReportedUsage> reported) {
        long in = 0;
        long out = 0;
        for (LoadWorker.Outcome o : outcomes) {
            assertThat(o.response().status()).isEqualTo(200);
            ReportedUsage u = reported.get(o.id());
            assertThat(u).as("usage reported for request %d", o.id()).isNotNull();
            in += u.inputTokens();
            out += u.outputTokens();
        }
        return TokenCounts.of(in, out);
    }

    private TokenCounts used(String budget) {
        return engine.status(budget).orElseThrow().windows().get(0).used();
    }

    private long reserved(String budget) {
        return engine.status(budget).orElseThrow().windows().get(0).reserved().total();
    }
}
