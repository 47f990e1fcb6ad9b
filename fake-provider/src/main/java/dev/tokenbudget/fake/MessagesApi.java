package dev.tokenbudget.fake;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;

/**
 * Anthropic Messages ({@code POST /v1/messages}): a {@code message} object, or the event stream
 * {@code message_start} (input usage, output 1), {@code content_block_start}, a {@code ping},
 * {@code content_block_delta}…, {@code content_block_stop}, {@code message_delta} (stop reason and
 * the cumulative output usage) and {@code message_stop}. {@code max_tokens} is required, as it is
 * on the real API. Token counts use cl100k_base as a stand-in for Anthropic's private tokenizer.
 */
final class MessagesApi implements ProviderApi {

    @Override
    public String path() {
        return "/v1/messages";
    }

    @Override
    public void serve(JsonNode req, Wire wire, RecordedExchange record, Tuning tuning)
            throws IOException, InterruptedException, ApiError {
        String model = RequestFields.model(req);
        long ceiling = RequestFields.ceiling(req, "max_tokens");
        if (ceiling < 0) {
            throw ApiError.invalid("max_tokens: Field required");
        }
        JsonNode messages = req.get("messages");
        if (messages == null || !messages.isArray() || messages.isEmpty()) {
            throw ApiError.invalid("messages: Field required (a non-empty array)");
        }
        TokenCounter counter = TokenCounter.forModel(model);
        long prompt = RequestFields.conversationTokens(counter, messages, RequestFields.text(req.get("system")));
        ReplyPlan reply = ReplyPlan.of(counter, tuning.replyTokens(), ceiling);
        String id = Ids.next("msg_");
        wire.header("request-id", Ids.next("req_"));
        if (!RequestFields.stream(req)) {
            record.usage(new ReportedUsage(prompt, reply.outputTokens()));
            wire.json(200, body(id, model, reply, prompt));
            return;
        }
        wire.startStream();
        stream(wire::event, id, model, reply, prompt, record, tuning, null);
        wire.endStream();
    }

    /** Where a Messages stream's events go: SSE events here, Bedrock chunks in {@link BedrockApi}. */
    interface EventSink {
        void event(String name, ObjectNode data) throws IOException, InterruptedException;
    }

    /** A whole Messages response body. */
    static ObjectNode body(String id, String model, ReplyPlan reply, long prompt) {
        ObjectNode m = message(id, model);
        m.putArray("content").addObject().put("type", "text").put("text", reply.text);
        m.put("stop_reason", stop(reply));
        m.putNull("stop_sequence");
        m.set("usage", usage(prompt, reply.outputTokens()));
        return m;
    }

    private static String stop(ReplyPlan reply) {
        return reply.truncated ? "max_tokens" : "end_turn";
    }

    /**
     * The Messages event sequence; {@code lastExtra}, when not null, is merged into
     * {@code message_stop} (Bedrock adds its {@code amazon-bedrock-invocationMetrics} there).
     */
    static void stream(EventSink sink, String id, String model, ReplyPlan reply, long prompt, RecordedExchange record,
                       Tuning tuning, ObjectNode lastExtra) throws IOException, InterruptedException {
        ObjectNode start = event("message_start");
        ObjectNode m = message(id, model);
        m.putArray("content");
        m.putNull("stop_reason");
        m.putNull("stop_sequence");
        m.set("usage", usage(prompt, 1));
        start.set("message", m);
        record.usage(new ReportedUsage(prompt, 1));
        sink.event("message_start", start);
        ObjectNode blockStart = event("content_block_start").put("index", 0);
        blockStart.putObject("content_block").put("type", "text").put("text", "");
        sink.event("content_block_start", blockStart);
        sink.event("ping", event("ping"));
        for (String piece : reply.chunks(tuning.tokensPerChunk())) {
            ObjectNode d = event("content_block_delta").put("index", 0);
            d.putObject("delta").put("type", "text_delta").put("text", piece);
            sink.event("content_block_delta", d);
        }
        sink.event("content_block_stop", event("content_block_stop").put("index", 0));
        ObjectNode delta = event("message_delta");
        delta.putObject("delta").put("stop_reason", stop(reply)).putNull("stop_sequence");
        delta.putObject("usage").put("output_tokens", reply.outputTokens());
        record.usage(new ReportedUsage(prompt, reply.outputTokens()));
        sink.event("message_delta", delta);
        ObjectNode stop = event("message_stop");
        if (lastExtra != null) {
            stop.setAll(lastExtra);
        }
        sink.event("message_stop", stop);
    }

    private static ObjectNode event(String type) {
        return Wire.JSON.createObjectNode().put("type", type);
    }

    private static ObjectNode message(String id, String model) {
        ObjectNode m = Wire.JSON.createObjectNode();
        m.put("id", id).put("type", "message").put("role", "assistant").put("model", model);
        return m;
    }

    private static ObjectNode usage(long input, long output) {
        ObjectNode u = Wire.JSON.createObjectNode();
        u.put("input_tokens", input).put("cache_creation_input_tokens", 0).put("cache_read_input_tokens", 0)
                .put("output_tokens", output);
        return u;
    }

    @Override
    public ObjectNode error(int status, String type, String message) {
        ObjectNode root = Wire.JSON.createObjectNode();
        root.put("type", "error");
        root.putObject("error").put("type", type).put("message", message);
        return root;
    }
}
