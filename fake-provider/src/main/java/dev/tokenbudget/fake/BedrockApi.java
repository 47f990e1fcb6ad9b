package dev.tokenbudget.fake;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * AWS Bedrock Runtime, as its service model describes it (aws/aws-sdk-java-v2,
 * {@code services/bedrockruntime/src/main/resources/codegen-resources/service-2.json}: operations
 * {@code Converse}, {@code ConverseStream}, {@code InvokeModel}, {@code InvokeModelWithResponseStream};
 * shapes {@code ConverseOutput}, {@code TokenUsage}, {@code ConverseStreamOutput},
 * {@code ResponseStream}/{@code PayloadPart}):
 * <ul>
 *   <li>{@code POST /model/{modelId}/converse}: {@code {"output":{"message":...},"stopReason",
 *       "usage":{"inputTokens","outputTokens","totalTokens"},"metrics":{"latencyMs"}}};</li>
 *   <li>{@code /converse-stream}: an {@code application/vnd.amazon.eventstream} of
 *       {@code messageStart}, {@code contentBlockDelta}…, {@code contentBlockStop}, {@code messageStop}
 *       and {@code metadata} (usage, metrics) frames;</li>
 *   <li>{@code /invoke}: the model's own body, Anthropic's Messages for Claude
 *       ({@code anthropic_version: bedrock-2023-05-31} required, no {@code model}, which Bedrock
 *       refuses as an extraneous key), with the {@code X-Amzn-Bedrock-Input-Token-Count} /
 *       {@code -Output-Token-Count} headers;</li>
 *   <li>{@code /invoke-with-response-stream}: {@code chunk} frames whose {@code bytes} is the
 *       base64 of each Anthropic stream event, the last one carrying
 *       {@code amazon-bedrock-invocationMetrics}.</li>
 * </ul>
 * Errors: the status, {@code x-amzn-ErrorType} and {@code {"message"}}. Token counts use the
 * same stand-in tokenizer as {@link MessagesApi}.
 */
final class BedrockApi implements ProviderApi {

    private static final Pattern PATH = Pattern.compile(
            "/model/([^/]+)/(converse|converse-stream|invoke|invoke-with-response-stream)");

    @Override
    public String path() {
        return "/model/{modelId}/converse";
    }

    @Override
    public boolean matches(String path) {
        return PATH.matcher(path).matches();
    }

    @Override
    public void serve(JsonNode req, Wire wire, RecordedExchange record, Tuning tuning)
            throws IOException, InterruptedException, ApiError {
        Matcher m = PATH.matcher(record.request().path());
        if (!m.matches()) {
            throw new ApiError(404, "UnknownOperationException", "unknown operation");
        }
        // the JDK server hands over the decoded path: an encoded ':' is back to itself here
        String modelId = URLDecoder.decode(m.group(1).replace("+", "%2B"), StandardCharsets.UTF_8);
        wire.header("x-amzn-RequestId", Ids.next(""));
        switch (m.group(2)) {
            case "converse" -> converse(req, modelId, wire, record, tuning, false);
            case "converse-stream" -> converse(req, modelId, wire, record, tuning, true);
            case "invoke" -> invoke(req, modelId, wire, record, tuning, false);
            default -> invoke(req, modelId, wire, record, tuning, true);
        }
    }

    private static void converse(JsonNode req, String modelId, Wire wire, RecordedExchange record, Tuning tuning,
                                 boolean stream) throws IOException, InterruptedException, ApiError {
        JsonNode messages = req.get("messages");
        if (messages == null || !messages.isArray() || messages.isEmpty()) {
            throw ApiError.invalid("A conversation must start with a user message. Try again with a conversation "
                    + "that starts with a user message.");
        }
        long ceiling = -1;
        if (req.get("inferenceConfig") instanceof ObjectNode cfg) {
            ceiling = RequestFields.ceiling(cfg, "maxTokens");
        }
        TokenCounter counter = TokenCounter.forModel(modelId);
        List<JsonNode> msgs = new ArrayList<>();
        messages.forEach(msgs::add);
        long prompt = RequestFields.conversationTokens(counter, msgs, RequestFields.text(req.get("system")));
        ReplyPlan reply = ReplyPlan.of(counter, tuning.replyTokens(), ceiling);
        String stop = reply.truncated ? "max_tokens" : "end_turn";
        long out = reply.outputTokens();
        if (!stream) {
            ObjectNode body = Wire.JSON.createObjectNode();
            ObjectNode message = body.putObject("output").putObject("message").put("role", "assistant");
            message.putArray("content").addObject().put("text", reply.text);
            body.put("stopReason", stop);
            body.set("usage", usage(prompt, out));
            body.putObject("metrics").put("latencyMs", 100);
            record.usage(new ReportedUsage(prompt, out));
            wire.json(200, body);
            return;
        }
        wire.startStream("application/vnd.amazon.eventstream");
        wire.frame("messageStart", Wire.JSON.createObjectNode().put("role", "assistant"));
        for (String piece : reply.chunks(tuning.tokensPerChunk())) {
            ObjectNode d = Wire.JSON.createObjectNode();
            d.putObject("delta").put("text", piece);
            d.put("contentBlockIndex", 0);
            wire.frame("contentBlockDelta", d);
        }
        wire.frame("contentBlockStop", Wire.JSON.createObjectNode().put("contentBlockIndex", 0));
        wire.frame("messageStop", Wire.JSON.createObjectNode().put("stopReason", stop));
        ObjectNode meta = Wire.JSON.createObjectNode();
        meta.set("usage", usage(prompt, out));
        meta.putObject("metrics").put("latencyMs", 100);
        record.usage(new ReportedUsage(prompt, out));
        wire.frame("metadata", meta);
        wire.endStream();
    }

    private static ObjectNode usage(long in, long out) {
        return Wire.JSON.createObjectNode().put("inputTokens", in).put("outputTokens", out).put("totalTokens", in + out);
    }

    private static void invoke(JsonNode req, String modelId, Wire wire, RecordedExchange record, Tuning tuning,
                               boolean stream) throws IOException, InterruptedException, ApiError {
        if (req.has("model")) {
            throw ApiError.invalid("Malformed input request: #: extraneous key [model] is not permitted, "
                    + "please reformat your input and try again.");
        }
        if (!req.path("anthropic_version").asText().startsWith("bedrock-")) {
            throw ApiError.invalid("Malformed input request: #: required key [anthropic_version] not found, "
                    + "please reformat your input and try again.");
        }
        long ceiling = RequestFields.ceiling(req, "max_tokens");
        JsonNode messages = req.get("messages");
        if (ceiling < 0 || messages == null || !messages.isArray() || messages.isEmpty()) {
            throw ApiError.invalid("Malformed input request: #: required key [max_tokens] or [messages] not found, "
                    + "please reformat your input and try again.");
        }
        String model = modelId.replaceFirst("^(?:[a-z-]+\\.)?anthropic\\.", "").replaceFirst("-v\\d+(:\\d+)?$", "");
        TokenCounter counter = TokenCounter.forModel(model);
        List<JsonNode> msgs = new ArrayList<>();
        messages.forEach(msgs::add);
        long prompt = RequestFields.conversationTokens(counter, msgs, RequestFields.text(req.get("system")));
        ReplyPlan reply = ReplyPlan.of(counter, tuning.replyTokens(), ceiling);
        String id = Ids.next("msg_bdrk_");
        if (!stream) {
            wire.header("X-Amzn-Bedrock-Input-Token-Count", Long.toString(prompt));
            wire.header("X-Amzn-Bedrock-Output-Token-Count", Long.toString(reply.outputTokens()));
            record.usage(new ReportedUsage(prompt, reply.outputTokens()));
            wire.json(200, MessagesApi.body(id, model, reply, prompt));
            return;
        }
        wire.startStream("application/vnd.amazon.eventstream");
        ObjectNode metrics = Wire.JSON.createObjectNode();
        metrics.putObject("amazon-bedrock-invocationMetrics").put("inputTokenCount", prompt)
                .put("outputTokenCount", reply.outputTokens()).put("invocationLatency", 100)
                .put("firstByteLatency", 20);
        MessagesApi.stream((name, data) -> {
            if (!name.equals("ping")) { // Bedrock does not pass Anthropic's pings on
                wire.frame("chunk", Wire.JSON.createObjectNode().put("bytes",
                        Base64.getEncoder().encodeToString(Wire.JSON.writeValueAsBytes(data))));
            }
        }, id, model, reply, prompt, record, tuning, metrics);
        wire.endStream();
    }

    @Override
    public void errorHeaders(Wire wire, int status) {
        wire.header("x-amzn-ErrorType", switch (status) {
            case 400 -> "ValidationException";
            case 401, 403 -> "AccessDeniedException";
            case 404 -> "ResourceNotFoundException";
            case 429 -> "ThrottlingException";
            case 503 -> "ServiceUnavailableException";
            default -> "InternalServerException";
        });
    }

    @Override
    public ObjectNode error(int status, String type, String message) {
        return Wire.JSON.createObjectNode().put("message", message);
    }
}
