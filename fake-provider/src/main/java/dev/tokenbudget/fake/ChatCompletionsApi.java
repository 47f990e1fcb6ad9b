package dev.tokenbudget.fake;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;

/**
 * OpenAI Chat Completions ({@code POST /v1/chat/completions}): a {@code chat.completion} object,
 * or a stream of {@code chat.completion.chunk} objects ending in {@code data: [DONE]}. As OpenAI
 * does, a stream carries usage only when the request sets {@code stream_options.include_usage}:
 * then every chunk has {@code "usage": null} and one last chunk with empty {@code choices} carries
 * it.
 */
final class ChatCompletionsApi implements ProviderApi {

    @Override
    public String path() {
        return "/v1/chat/completions";
    }

    @Override
    public void serve(JsonNode req, Wire wire, RecordedExchange record, Tuning tuning)
            throws IOException, InterruptedException, ApiError {
        String model = RequestFields.model(req);
        JsonNode messages = req.get("messages");
        if (messages == null || !messages.isArray() || messages.isEmpty()) {
            throw ApiError.invalid("messages: expected a non-empty array");
        }
        long ceiling = RequestFields.ceiling(req, "max_completion_tokens");
        if (ceiling < 0) {
            ceiling = RequestFields.ceiling(req, "max_tokens");
        }
        TokenCounter counter = TokenCounter.forModel(model);
        long prompt = RequestFields.conversationTokens(counter, messages, null);
        ReplyPlan reply = ReplyPlan.of(counter, tuning.replyTokens(), ceiling);
        String finish = reply.truncated ? "length" : "stop";
        String id = Ids.next("chatcmpl-");
        long created = Ids.epochSeconds();
        wire.header("x-request-id", Ids.next("req_"));
        ReportedUsage usage = new ReportedUsage(prompt, reply.outputTokens());
        if (!RequestFields.stream(req)) {
            ObjectNode body = envelope(id, created, model, "chat.completion");
            ObjectNode choice = body.putArray("choices").addObject();
            choice.put("index", 0);
            ObjectNode message = choice.putObject("message");
            message.put("role", "assistant").put("content", reply.text).putNull("refusal");
            message.putArray("annotations");
            choice.putNull("logprobs");
            choice.put("finish_reason", finish);
            body.set("usage", usage(usage));
            body.put("service_tier", "default");
            record.usage(usage);
            wire.json(200, body);
            return;
        }
        boolean includeUsage = req.path("stream_options").path("include_usage").asBoolean(false);
        wire.startStream();
        ObjectNode first = chunk(id, created, model, includeUsage);
        ObjectNode delta = delta(first, null);
        delta.put("role", "assistant").put("content", "").putNull("refusal");
        wire.event(null, first);
        for (String piece : reply.chunks(tuning.tokensPerChunk())) {
            ObjectNode c = chunk(id, created, model, includeUsage);
            delta(c, null).put("content", piece);
            wire.event(null, c);
        }
        ObjectNode last = chunk(id, created, model, includeUsage);
        delta(last, finish);
        wire.event(null, last);
        if (includeUsage) {
            ObjectNode u = envelope(id, created, model, "chat.completion.chunk");
            u.putArray("choices");
            u.set("usage", usage(usage));
            wire.event(null, u);
            record.usage(usage);
        }
        wire.raw(null, "[DONE]");
        wire.endStream();
    }

    private static ObjectNode envelope(String id, long created, String model, String object) {
        ObjectNode o = Wire.JSON.createObjectNode();
        o.put("id", id).put("object", object).put("created", created).put("model", model);
        o.put("system_fingerprint", "fp_tokenbudget_fake");
        return o;
    }

    private static ObjectNode chunk(String id, long created, String model, boolean includeUsage) {
        ObjectNode c = envelope(id, created, model, "chat.completion.chunk");
        c.putArray("choices");
        if (includeUsage) {
            c.putNull("usage");
        }
        return c;
    }

    /** Adds the single choice of a chunk and returns its delta object. */
    private static ObjectNode delta(ObjectNode chunk, String finish) {
        ObjectNode choice = ((ArrayNode) chunk.get("choices")).addObject();
        choice.put("index", 0);
        ObjectNode delta = choice.putObject("delta");
        choice.putNull("logprobs");
        if (finish == null) {
            choice.putNull("finish_reason");
        } else {
            choice.put("finish_reason", finish);
        }
        return delta;
    }

    private static ObjectNode usage(ReportedUsage u) {
        ObjectNode n = Wire.JSON.createObjectNode();
        n.put("prompt_tokens", u.inputTokens()).put("completion_tokens", u.outputTokens())
                .put("total_tokens", u.totalTokens());
        n.putObject("prompt_tokens_details").put("cached_tokens", 0).put("audio_tokens", 0);
        n.putObject("completion_tokens_details").put("reasoning_tokens", 0).put("audio_tokens", 0)
                .put("accepted_prediction_tokens", 0).put("rejected_prediction_tokens", 0);
        return n;
    }

    @Override
    public ObjectNode error(int status, String type, String message) {
        return OpenAiErrors.body(type, message);
    }
}
