package dev.tokenbudget.fake;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Google Vertex AI on {@code /v1/projects/{p}/locations/{l}/publishers/{publisher}/models/{model}:{method}},
 * as Vertex's REST reference describes it ({@code projects.locations.publishers.models.generateContent},
 * {@code .streamGenerateContent}, {@code .rawPredict}, {@code .streamRawPredict}):
 * <ul>
 *   <li>{@code google} models: {@code generateContent} answers a {@code GenerateContentResponse}
 *       ({@code candidates}, {@code usageMetadata} with {@code promptTokenCount},
 *       {@code candidatesTokenCount}, {@code totalTokenCount}, {@code trafficType}),
 *       {@code modelVersion}, {@code createTime}, {@code responseId}); {@code streamGenerateContent}
 *       with {@code alt=sse} sends one such response per {@code data:} event ending in CRLF CRLF,
 *       each with the cumulative {@code usageMetadata}, the last with {@code finishReason}, and
 *       without {@code alt=sse} one JSON array of them;</li>
 *   <li>{@code anthropic} models: Anthropic's Messages with {@code anthropic_version:
 *       vertex-2023-10-16} and the model from the path; {@code streamRawPredict} streams Anthropic's
 *       SSE events ({@code stream: true} in the body).</li>
 * </ul>
 * Errors are Google's {@code {"error":{"code","message","status"}}}.
 */
final class VertexApi implements ProviderApi {

    private static final Pattern PATH = Pattern.compile(
            "/v1(?:beta1)?/projects/[^/]+/locations/[^/]+/publishers/(google|anthropic)/models/([^/:]+):"
                    + "(generateContent|streamGenerateContent|rawPredict|streamRawPredict)");

    @Override
    public String path() {
        return "/v1/projects/{p}/locations/{l}/publishers/{publisher}/models/{model}:{method}";
    }

    @Override
    public boolean matches(String path) {
        return PATH.matcher(path).matches();
    }

    @Override
    public void serve(JsonNode req, Wire wire, RecordedExchange record, Tuning tuning)
            throws IOException, InterruptedException, ApiError {
        Matcher m = PATH.matcher(record.request().path());
        boolean google = m.matches() && m.group(1).equals("google");
        if (!m.matches() || google != m.group(3).endsWith("enerateContent")) {
            throw new ApiError(404, "NOT_FOUND", "the method does not exist for this publisher");
        }
        String model = m.group(2);
        if (m.group(1).equals("anthropic")) {
            claude(req, model, m.group(3).equals("streamRawPredict"), wire, record, tuning);
        } else {
            String query = record.request().query();
            gemini(req, model, m.group(3), query != null && query.contains("alt=sse"), wire, record, tuning);
        }
    }

    private static void claude(JsonNode req, String model, boolean streamMethod, Wire wire, RecordedExchange record,
                               Tuning tuning) throws IOException, InterruptedException, ApiError {
        if (!"vertex-2023-10-16".equals(req.path("anthropic_version").asText())) {
            throw ApiError.invalid("anthropic_version: Input should be 'vertex-2023-10-16'");
        }
        long ceiling = RequestFields.ceiling(req, "max_tokens");
        JsonNode messages = req.get("messages");
        if (ceiling < 0 || messages == null || !messages.isArray() || messages.isEmpty()) {
            throw ApiError.invalid("max_tokens and messages: Field required");
        }
        String name = model.replaceFirst("@", "-");
        TokenCounter counter = TokenCounter.forModel(name);
        long prompt = RequestFields.conversationTokens(counter, messages, RequestFields.text(req.get("system")));
        ReplyPlan reply = ReplyPlan.of(counter, tuning.replyTokens(), ceiling);
        String id = Ids.next("msg_vrtx_");
        if (!(streamMethod && RequestFields.stream(req))) {
            record.usage(new ReportedUsage(prompt, reply.outputTokens()));
            wire.json(200, MessagesApi.body(id, name, reply, prompt));
            return;
        }
        wire.startStream();
        MessagesApi.stream(wire::event, id, name, reply, prompt, record, tuning, null);
        wire.endStream();
    }

    private static void gemini(JsonNode req, String model, String method, boolean sse, Wire wire,
                               RecordedExchange record, Tuning tuning) throws IOException, InterruptedException, ApiError {
        JsonNode contents = req.get("contents");
        if (contents == null || !contents.isArray() || contents.isEmpty()) {
            throw ApiError.invalid("Unable to submit request because it has an empty contents field.");
        }
        long ceiling = -1;
        if (req.get("generationConfig") instanceof ObjectNode cfg) {
            ceiling = RequestFields.ceiling(cfg, "maxOutputTokens");
        }
        TokenCounter counter = TokenCounter.forModel(model);
        List<JsonNode> turns = new ArrayList<>();
        for (JsonNode c : contents) {
            turns.add(Wire.JSON.createObjectNode().put("role", c.path("role").asText("user"))
                    .put("content", RequestFields.text(c.get("parts"))));
        }
        JsonNode sys = req.get("systemInstruction");
        long prompt = RequestFields.conversationTokens(counter, turns,
                sys == null ? null : RequestFields.text(sys.get("parts")));
        ReplyPlan reply = ReplyPlan.of(counter, tuning.replyTokens(), ceiling);
        String finish = reply.truncated ? "MAX_TOKENS" : "STOP";
        String responseId = Ids.next("");
        if (method.equals("generateContent")) {
            record.usage(new ReportedUsage(prompt, reply.outputTokens()));
            wire.json(200, response(model, responseId, reply.text, finish, prompt, reply.outputTokens()));
            return;
        }
        List<String> chunks = reply.chunks(tuning.tokensPerChunk());
        if (!sse) {
            // without alt=sse the stream is one JSON array of responses
            ArrayNode all = Wire.JSON.createArrayNode();
            long sent = 0;
            for (int i = 0; i < chunks.size(); i++) {
                sent += Math.min(tuning.tokensPerChunk(), reply.outputTokens() - sent);
                all.add(response(model, responseId, chunks.get(i), i == chunks.size() - 1 ? finish : null, prompt,
                        sent));
            }
            record.usage(new ReportedUsage(prompt, reply.outputTokens()));
            wire.json(200, all);
            return;
        }
        wire.startStream();
        long sent = 0;
        for (int i = 0; i < chunks.size(); i++) {
            sent += Math.min(tuning.tokensPerChunk(), reply.outputTokens() - sent);
            record.usage(new ReportedUsage(prompt, sent));
            wire.crlfEvent(response(model, responseId, chunks.get(i), i == chunks.size() - 1 ? finish : null, prompt,
                    sent));
        }
        wire.endStream();
    }

    private static ObjectNode response(String model, String id, String text, String finish, long prompt, long out) {
        ObjectNode r = Wire.JSON.createObjectNode();
        ObjectNode cand = r.putArray("candidates").addObject();
        ObjectNode content = cand.putObject("content").put("role", "model");
        content.putArray("parts").addObject().put("text", text);
        if (finish != null) {
            cand.put("finishReason", finish);
        }
        r.putObject("usageMetadata").put("promptTokenCount", prompt).put("candidatesTokenCount", out)
                .put("totalTokenCount", prompt + out).put("trafficType", "ON_DEMAND");
        r.put("modelVersion", model).put("createTime", "2026-12-06T00:00:00.000000Z").put("responseId", id);
        return r;
    }

    @Override
    public ObjectNode error(int status, String type, String message) {
        String st = switch (status) {
            case 400 -> "INVALID_ARGUMENT";
            case 401 -> "UNAUTHENTICATED";
            case 403 -> "PERMISSION_DENIED";
            case 404 -> "NOT_FOUND";
            case 429 -> "RESOURCE_EXHAUSTED";
            case 503 -> "UNAVAILABLE";
            default -> "INTERNAL";
        };
        ObjectNode root = Wire.JSON.createObjectNode();
        root.putObject("error").put("code", status).put("message", message).put("status", st);
        return root;
    }
}
