package dev.tokenbudget.bench.gateway;

import dev.tokenbudget.bench.engine.EngineDecision;
import dev.tokenbudget.config.ConfigLoader;
import dev.tokenbudget.engine.BudgetEngine;
import dev.tokenbudget.gateway.Admission;
import dev.tokenbudget.gateway.BudgetGateway;
import dev.tokenbudget.gateway.Forward;
import dev.tokenbudget.gateway.GatewayOptions;
import dev.tokenbudget.gateway.Identified;
import dev.tokenbudget.gateway.MeterResult;
import dev.tokenbudget.gateway.RequestView;
import dev.tokenbudget.gateway.ResponseMeter;
import dev.tokenbudget.provider.BodyBytes;
import dev.tokenbudget.provider.Provider;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

/**
 * JMH (not a test): what the shared gateway layer spends on one request of the gateway bench, on the
 * in-memory store and {@link EngineDecision}'s path, without the web framework: identify the key, admit the body (scan, estimate,
 * reserve, plan), the client's response headers, and meter a JSON answer ({@code request}) or an
 * SSE stream of 68 events as the bench's fake provider sends them ({@code stream}) to its settle. Time and,
 * with {@code -prof gc}, bytes allocated per request ({@code gc.alloc.rate.norm}, valid on a busy
 * machine). {@code decision} is the engine's reserve + settle alone on the same path, the part
 * this layer does not own.
 *
 * <pre>java -cp "$CP" org.openjdk.jmh.Main GatewayPathCost -prof gc -f 1 -wi 3 -i 3 -w 1 -r 1 -bm avgt -tu us</pre>
 */
@State(Scope.Thread)
public class GatewayPathCost {

    /** What the fake provider answers a non-streamed chat request with, in the shape OpenAI's API uses. */
    static final byte[] ANSWER = ("{\"id\":\"chatcmpl-bench\",\"object\":\"chat.completion\",\"created\":1765000000,"
            + "\"model\":\"gpt-4o-2024-08-06\",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\","
            + "\"content\":\"Hello, benchmark! Hello, benchmark! Hello, benchmark!\"},\"finish_reason\":\"stop\"}],"
            + "\"usage\":{\"prompt_tokens\":14,\"completion_tokens\":12,\"total_tokens\":26,"
            + "\"prompt_tokens_details\":{\"cached_tokens\":0},\"completion_tokens_details\":{\"reasoning_tokens\":0}}}")
            .getBytes(StandardCharsets.UTF_8);

    /** The bench's streamed request: what its {@code StreamLoad} sends. */
    static final String STREAM_BODY = "{\"model\":\"gpt-4o\",\"max_tokens\":256,\"stream\":true,"
            + "\"messages\":[{\"role\":\"user\",\"content\":\"Say hello to the benchmark.\"}]}";

    /**
     * The fake provider's stream of 256 tokens at 4 a chunk, one array per event as it writes them:
     * a role chunk, 64 content chunks, a finish chunk, the usage chunk (the gateway asked for it) and
     * {@code [DONE]}; every chunk before the usage one has {@code "usage":null}, as OpenAI sends them.
     */
    static final byte[][] EVENTS = streamEvents();

    private static byte[][] streamEvents() {
        String head = "{\"id\":\"chatcmpl-bench\",\"object\":\"chat.completion.chunk\",\"created\":1765000000,"
                + "\"model\":\"gpt-4o-2024-08-06\",\"system_fingerprint\":\"fp_tokenbudget_fake\",\"choices\":[";
        String choice = "{\"index\":0,\"delta\":{%s},\"logprobs\":null,\"finish_reason\":%s}],\"usage\":null}";
        java.util.List<String> data = new java.util.ArrayList<>();
        data.add(head + choice.formatted("\"role\":\"assistant\",\"content\":\"\",\"refusal\":null", "null"));
        for (int i = 0; i < 64; i++) {
            data.add(head + choice.formatted("\"content\":\" hello, bench \"", "null"));
        }
        data.add(head + choice.formatted("", "\"stop\""));
        data.add(head + "],\"usage\":{\"prompt_tokens\":14,\"completion_tokens\":256,\"total_tokens\":270,"
                + "\"prompt_tokens_details\":{\"cached_tokens\":0,\"audio_tokens\":0},\"completion_tokens_details\":"
                + "{\"reasoning_tokens\":0,\"audio_tokens\":0,\"accepted_prediction_tokens\":0,"
                + "\"rejected_prediction_tokens\":0}}}");
        data.add("[DONE]");
        return data.stream().map(d -> ("data: " + d + "\n\n").getBytes(StandardCharsets.UTF_8)).toArray(byte[][]::new);
    }

    static final Map<String, String> HEADERS = Map.of("authorization", "Bearer sk-bench",
            "content-type", "application/json");

    /** The bench's request as the gateway layer sees it: a chat completion with the bench's key. */
    static final RequestView VIEW = new RequestView() {
        @Override
        public String method() {
            return "POST";
        }

        @Override
        public String path() {
            return "/v1/chat/completions";
        }

        @Override
        public String header(String name) {
            return HEADERS.get(name);
        }
    };

    /** {@code json} in an off-heap buffer, as a gateway holds request bodies. */
    static ByteBuffer offHeap(String json) {
        byte[] b = json.getBytes(StandardCharsets.UTF_8);
        ByteBuffer buf = ByteBuffer.allocateDirect(b.length);
        buf.put(b).flip();
        return buf;
    }

    private BudgetEngine engine;
    private BudgetGateway gateway;
    private RequestView view;
    private ByteBuffer body;
    private ByteBuffer streamBody;

    @Setup
    public void setUp() {
        engine = BudgetEngine.inMemory(ConfigLoader.parse(EngineDecision.CONFIG));
        gateway = new BudgetGateway(engine, GatewayOptions.ofDefaults());
        view = VIEW;
        body = offHeap(GatewayBench.JSON_BODY);
        streamBody = offHeap(STREAM_BODY);
        if (request() != MeterResult.Outcome.SETTLED || stream() != MeterResult.Outcome.SETTLED) {
            throw new IllegalStateException("expected settled requests");
        }
    }

    @TearDown
    public void tearDown() {
        engine.close();
    }

    /** One request: identify, admit, response headers, meter the answer, settle. */
    @Benchmark
    public MeterResult.Outcome request() {
        Identified id = (Identified) gateway.identify(view, Provider.OPENAI);
        Admission a = gateway.admitAsync(id, BodyBytes.of(List.of(body))).toCompletableFuture().join();
        Forward f = (Forward) a;
        ResponseMeter m = f.meter();
        m.onResponseHeaders(200, "application/json", HEADERS::get);
        m.onBytes(ANSWER, 0, ANSWER.length);
        return m.complete().outcome();
    }

    /** One streamed request: identify, admit (the usage option spliced in), response headers, meter 68 events, settle. */
    @Benchmark
    public MeterResult.Outcome stream() {
        Identified id = (Identified) gateway.identify(view, Provider.OPENAI);
        Admission a = gateway.admitAsync(id, BodyBytes.of(List.of(streamBody))).toCompletableFuture().join();
        ResponseMeter m = ((Forward) a).meter();
        m.onResponseHeaders(200, "text/event-stream", HEADERS::get);
        for (byte[] e : EVENTS) {
            m.onBytes(e, 0, e.length);
        }
        return m.complete().outcome();
    }

    /** The identify step alone (key lookup, route, headers). */
    @Benchmark
    public Object identify() {
        return gateway.identify(view, Provider.OPENAI);
    }
}
