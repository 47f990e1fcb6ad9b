package dev.tokenbudget.bench.estimate;

import dev.tokenbudget.estimate.TokenizerEstimator;
import dev.tokenbudget.provider.BodyBytes;
import dev.tokenbudget.provider.Endpoint;
import dev.tokenbudget.provider.Family;
import dev.tokenbudget.provider.ProviderCodec;
import dev.tokenbudget.provider.RequestFacts;
import dev.tokenbudget.provider.RequestJson;
import dev.tokenbudget.provider.RequestScan;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * What admission spends on a request body before it reserves: reading the facts (model, ceilings,
 * prompt) and estimating the input tokens, for a Chat Completions body whose prompt is
 * {@code kb} KiB of English text in a few messages. {@code scan}: the incremental scan over the
 * body in 8 KiB off-heap pieces, as a gateway holds it; {@code tree}: the Jackson tree the gateway
 * built before (parse, codec, prompt walk), the reference.
 */
@State(Scope.Thread)
public class RequestFactsCost {

    private static final String SENTENCE = "The support copilot answers questions about invoices, refunds and "
            + "delivery times; it quotes the policy and asks for the order number when it needs one. ";
    private static final ProviderCodec CODEC = ProviderCodec.of(Family.OPENAI);
    private static final TokenizerEstimator ESTIMATOR = TokenizerEstimator.shared();

    @Param({"1", "8", "64"})
    public int kb;

    private byte[] body;
    private List<ByteBuffer> pieces;

    @Setup
    public void setUp() {
        body = body(kb * 1024);
        pieces = new ArrayList<>();
        for (int at = 0; at < body.length; at += 8192) {
            int n = Math.min(8192, body.length - at);
            ByteBuffer b = ByteBuffer.allocateDirect(n);
            b.put(body, at, n).flip();
            pieces.add(b);
        }
    }

    /** A chat body with a system prompt and alternating turns holding {@code promptBytes} of text in all. */
    static byte[] body(int promptBytes) {
        StringBuilder b = new StringBuilder("{\"model\":\"gpt-4o\",\"max_tokens\":256,\"stream\":false,\"messages\":[");
        b.append("{\"role\":\"system\",\"content\":\"You are a concise assistant.\"}");
        int written = 0;
        int turn = 0;
        while (written < promptBytes) {
            StringBuilder t = new StringBuilder();
            while (t.length() < 700 && written + t.length() < promptBytes) {
                t.append(SENTENCE);
            }
            b.append(",{\"role\":\"").append(turn++ % 2 == 0 ? "user" : "assistant").append("\",\"content\":\"")
                    .append(t).append("\"}");
            written += t.length();
        }
        return b.append("]}").toString().getBytes(StandardCharsets.UTF_8);
    }

    @Benchmark
    public long scan() {
        RequestFacts f = RequestScan.read(CODEC, Endpoint.CHAT_COMPLETIONS, BodyBytes.of(pieces)).facts();
        return ESTIMATOR.inputTokens(Family.OPENAI, f.model(), f.prompt()) + f.maxOutputTokens();
    }

    @Benchmark
    public long tree() {
        RequestJson.Parsed p = RequestJson.parse(body);
        RequestFacts f = CODEC.inspect(Endpoint.CHAT_COMPLETIONS, p.body());
        return ESTIMATOR.inputTokens(Family.OPENAI, f.model(), f.prompt()) + f.maxOutputTokens();
    }
}
