package dev.tokenbudget.fake;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.util.List;

/**
 * OpenAI Responses ({@code POST /v1/responses}): a {@code response} object, or a stream of typed
 * events, each with an increasing {@code sequence_number}: {@code response.created},
 * {@code response.in_progress}, {@code response.output_item.added},
 * {@code response.content_part.added}, {@code response.output_text.delta}…,
 * {@code response.output_text.done}, {@code response.content_part.done},
 * {@code response.output_item.done}, then {@code response.completed} (or
 * {@code response.incomplete} when {@code max_output_tokens} cut the answer), which alone carries
 * the usage. No {@code [DONE]} sentinel.
 */
final class ResponsesApi implements ProviderApi {

    @Override
    public String path() {
        return "/v1/responses";
    }

    @Override
    public void serve(JsonNode req, Wire wire, RecordedExchange record, Tuning tuning)
            throws IOException, InterruptedException, ApiError {
        String model = RequestFields.model(req);
        JsonNode input = req.get("input");
        if (input == null || !(input.isTextual() || input.isArray())) {
            throw ApiError.invalid("input: expected a string or an array of input items");
        }
        long ceiling = RequestFields.ceiling(req, "max_output_tokens");
        TokenCounter counter = TokenCounter.forModel(model);
        String instructions = req.path("instructions").isTextual() ? req.get("instructions").asText() : null;
        long prompt = input.isTextual()
                ? RequestFields.conversationTokens(counter, List.of(Wire.JSON.createObjectNode()
                .put("role", "user").put("content", input.asText())), instructions)
                : RequestFields.conversationTokens(counter, input, instructions);
        ReplyPlan reply = ReplyPlan.of(counter, tuning.replyTokens(), ceiling);
        ReportedUsage usage = new ReportedUsage(prompt, reply.outputTokens());
        String id = Ids.next("resp_");
        String itemId = Ids.next("msg_");
        long created = Ids.epochSeconds();
        wire.header("x-request-id", Ids.next("req_"));
        ObjectNode done = response(id, created, model, req, ceiling);
        done.put("status", reply.truncated ? "incomplete" : "completed");
        if (reply.truncated) {
            done.putObject("incomplete_details").put("reason", "max_output_tokens");
        }
        done.putArray("output").add(message(itemId, reply.text, "completed"));
        done.set("usage", usage(usage));
        if (!RequestFields.stream(req)) {
            record.usage(usage);
            wire.json(200, done);
            return;
        }
        wire.startStream();
        Sequence seq = new Sequence(wire);
        ObjectNode pending = response(id, created, model, req, ceiling);
        pending.put("status", "in_progress");
        pending.putArray("output");
        pending.putNull("usage");
        seq.emit("response.created", e -> e.set("response", pending));
        seq.emit("response.in_progress", e -> e.set("response", pending));
        seq.emit("response.output_item.added", e -> e.put("output_index", 0)
                .set("item", message(itemId, null, "in_progress")));
        seq.emit("response.content_part.added", e -> part(e, itemId).set("part", textPart("")));
        for (String piece : reply.chunks(tuning.tokensPerChunk())) {
            seq.emit("response.output_text.delta", e -> part(e, itemId).put("delta", piece).putArray("logprobs"));
        }
        seq.emit("response.output_text.done", e -> part(e, itemId).put("text", reply.text).putArray("logprobs"));
        seq.emit("response.content_part.done", e -> part(e, itemId).set("part", textPart(reply.text)));
        seq.emit("response.output_item.done", e -> e.put("output_index", 0)
                .set("item", message(itemId, reply.text, "completed")));
        record.usage(usage);
        seq.emit(reply.truncated ? "response.incomplete" : "response.completed", e -> e.set("response", done));
        wire.endStream();
    }

    /** Numbers events in order and writes each with its {@code event:} name equal to its type. */
    private static final class Sequence {
        interface Body {
            void fill(ObjectNode event);
        }

        private final Wire wire;
        private int next;

        Sequence(Wire wire) {
            this.wire = wire;
        }

        void emit(String type, Body body) throws IOException, InterruptedException {
            ObjectNode e = Wire.JSON.createObjectNode();
            e.put("type", type);
            body.fill(e);
            e.put("sequence_number", next++);
            wire.event(type, e);
        }
    }

    private static ObjectNode part(ObjectNode e, String itemId) {
        return e.put("item_id", itemId).put("output_index", 0).put("content_index", 0);
    }

    private static ObjectNode response(String id, long created, String model, JsonNode req, long ceiling) {
        ObjectNode r = Wire.JSON.createObjectNode();
        r.put("id", id).put("object", "response").put("created_at", created);
        r.put("status", "in_progress");
        r.putNull("error");
        r.putNull("incomplete_details");
        r.set("instructions", req.path("instructions").isTextual() ? req.get("instructions") : null);
        if (ceiling > 0) {
            r.put("max_output_tokens", ceiling);
        } else {
            r.putNull("max_output_tokens");
        }
        r.put("model", model);
        r.put("parallel_tool_calls", true);
        r.putNull("previous_response_id");
        r.putObject("reasoning").putNull("effort").putNull("summary");
        r.put("store", true);
        r.put("temperature", 1.0);
        r.putObject("text").putObject("format").put("type", "text");
        r.put("tool_choice", "auto");
        r.putArray("tools");
        r.put("top_p", 1.0);
        r.put("truncation", "disabled");
        r.putNull("user");
        r.putObject("metadata");
        return r;
    }

    private static ObjectNode message(String itemId, String text, String status) {
        ObjectNode m = Wire.JSON.createObjectNode();
        m.put("id", itemId).put("type", "message").put("status", status).put("role", "assistant");
        var content = m.putArray("content");
        if (text != null) {
            content.add(textPart(text));
        }
        return m;
    }

    private static ObjectNode textPart(String text) {
        ObjectNode p = Wire.JSON.createObjectNode();
        p.put("type", "output_text").put("text", text);
        p.putArray("annotations");
        return p;
    }

    private static ObjectNode usage(ReportedUsage u) {
        ObjectNode n = Wire.JSON.createObjectNode();
        n.put("input_tokens", u.inputTokens());
        n.putObject("input_tokens_details").put("cached_tokens", 0);
        n.put("output_tokens", u.outputTokens());
        n.putObject("output_tokens_details").put("reasoning_tokens", 0);
        n.put("total_tokens", u.totalTokens());
        return n;
    }

    @Override
    public ObjectNode error(int status, String type, String message) {
        return OpenAiErrors.body(type, message);
    }
}
