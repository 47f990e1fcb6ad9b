package dev.tokenbudget.provider;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.BigIntegerNode;
import com.fasterxml.jackson.databind.node.BooleanNode;
import com.fasterxml.jackson.databind.node.IntNode;
import com.fasterxml.jackson.databind.node.LongNode;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import dev.tokenbudget.provider.json.JsonScanner;

import java.io.IOException;
import java.util.Set;

/**
 * Reads what budgeting needs from a request body in one pass over its bytes, as they lie in the
 * gateway's buffers: the incremental {@link JsonScanner} (strict: one object, no duplicated field,
 * valid UTF-8) feeds the prompt walk ({@link PromptScan}) and keeps, of the whole document, only the
 * few fields the codecs read (model, stream flags, output ceilings, choices), which
 * {@link ProviderCodec#inspect(Endpoint, ObjectNode, PromptText)} then validates as it validates a
 * whole tree. No tree of the body is built.
 *
 * <p>A body the scan does not accept (malformed JSON, invalid UTF-8, not an object, or a field the
 * codecs read holding an array or an object where a value belongs) is read again with
 * {@link RequestJson#parse} and the codec, so that its 400 says, word for word, what it said before
 * the scan existed; only refused bodies take that path.
 */
public final class RequestScan {

    /** Fields the codecs read as values, at the root or inside one of {@link #OBJECTS}. */
    private static final Set<String> VALUES = Set.of("model", "stream", "max_completion_tokens", "max_tokens", "n",
            "best_of", "max_output_tokens", "max_gen_len", "include_usage", "maxOutputTokens", "candidateCount",
            "thinkingBudget", "maxTokens", "max_new_tokens", "maxTokenCount");
    /** Fields the codecs read as objects (OpenAI, Gemini in both spellings, Bedrock). */
    private static final Set<String> OBJECTS = Set.of("stream_options", "generationConfig", "generation_config",
            "thinkingConfig", "inferenceConfig", "textGenerationConfig");

    private RequestScan() {
    }

    /**
     * What reading a body found.
     *
     * @param facts       the facts (with {@link RequestFacts#problem()} for a field the codec refuses), or
     *                    invalid with {@code jsonProblem} when the body is no JSON object
     * @param jsonProblem why the body is not one valid JSON object (answer 400 {@code invalid_json}), or null
     * @param tree        the whole body's tree when it was built (only by the fallback), else null
     * @param fields      the fields the scan kept (for {@link ProviderCodec#splice}), or null when it did not read it
     * @param scanned     true when the scan alone read it (no tree built)
     */
    public record Result(RequestFacts facts, String jsonProblem, ObjectNode tree, ObjectNode fields,
                         boolean scanned) {
    }

    /** Reads {@code body} for {@code endpoint}'s codec. Never throws. */
    public static Result read(ProviderCodec codec, Endpoint endpoint, BodyBytes body) {
        if (!body.isEmpty()) {
            Fields fields = new Fields(body.length());
            JsonScanner scanner = JsonScanner.strict(fields);
            Utf8.Validator utf8 = new Utf8.Validator();
            body.read((b, off, len) -> {
                if (!utf8.feed(b, off, len)) {
                    return false;
                }
                scanner.feed(b, off, len);
                return scanner.failure() == null;
            });
            if (utf8.complete() && scanner.failure() == null) {
                scanner.end();
                if (scanner.failure() == null && fields.root != null) {
                    return new Result(codec.inspect(endpoint, fields.root, fields.prompt.result()), null, null,
                            fields.root, true);
                }
            }
        }
        return parsed(codec, endpoint, body.toArray());
    }

    /** The reading that builds the whole tree: the 400s' wording, and the oracle the scan is tested against. */
    static Result parsed(ProviderCodec codec, Endpoint endpoint, byte[] body) {
        RequestJson.Parsed p = RequestJson.parse(body);
        if (p.problem() != null) {
            return new Result(RequestFacts.invalid(p.problem()), p.problem(), null, null, false);
        }
        return new Result(codec.inspect(endpoint, p.body()), null, p.body(), null, false);
    }

    /**
     * The scan's listener: the prompt walk, and the fields {@link #VALUES} / {@link #OBJECTS} of the
     * root and of those objects, as the nodes Jackson's tree would hold for them.
     */
    private static final class Fields implements JsonScanner.Tokens {
        final PromptScan prompt;
        ObjectNode root;
        // per depth, the object whose fields are kept (the root, a kept object), or null
        private ObjectNode[] kept = new ObjectNode[16];
        private int depth;
        private String field;

        Fields(long bodyLength) {
            prompt = new PromptScan(bodyLength);
        }

        @Override
        public void token(JsonToken t, JsonParser p) throws IOException {
            prompt.token(t, p);
            switch (t) {
                case FIELD_NAME -> {
                    field = p.currentName();
                    return;
                }
                case START_OBJECT -> open(depth == 0 ? rootObject() : keptChild(true));
                case START_ARRAY -> {
                    if (depth == 0) {
                        throw new IllegalStateException("not an object"); // the parse says it its way
                    }
                    keptChild(false);
                    open(null);
                }
                case END_OBJECT, END_ARRAY -> depth--;
                default -> {
                    if (depth == 0) {
                        throw new IllegalStateException("not an object");
                    }
                    ObjectNode into = kept[depth - 1];
                    if (into != null && (VALUES.contains(field) || OBJECTS.contains(field))) {
                        into.set(field, value(t, p));
                    }
                }
            }
            field = null;
        }

        private ObjectNode rootObject() {
            root = RequestJson.object();
            return root;
        }

        /** The kept object a container opening here becomes, or null; refuses a container where a value is read. */
        private ObjectNode keptChild(boolean object) {
            ObjectNode into = kept[depth - 1];
            if (into == null || field == null) {
                return null;
            }
            if (VALUES.contains(field) || (!object && OBJECTS.contains(field))) {
                // "max_tokens": {...} or "stream_options": [...]: the parse words the 400 (with the value)
                throw new IllegalStateException("a container where a value is read");
            }
            return OBJECTS.contains(field) ? into.putObject(field) : null;
        }

        private void open(ObjectNode k) {
            if (depth == kept.length) {
                kept = java.util.Arrays.copyOf(kept, depth * 2);
            }
            kept[depth++] = k;
        }

        /** The node Jackson's tree holds for this scalar (numbers as {@code RequestJson} reads them). */
        private static JsonNode value(JsonToken t, JsonParser p) throws IOException {
            return switch (t) {
                case VALUE_STRING -> TextNode.valueOf(p.getText());
                case VALUE_TRUE -> BooleanNode.TRUE;
                case VALUE_FALSE -> BooleanNode.FALSE;
                case VALUE_NUMBER_INT -> switch (p.getNumberType()) {
                    case INT -> IntNode.valueOf(p.getIntValue());
                    case LONG -> LongNode.valueOf(p.getLongValue());
                    default -> BigIntegerNode.valueOf(p.getBigIntegerValue());
                };
                // a decimal keeps its exact value and scale, as the request mapper's settings say
                case VALUE_NUMBER_FLOAT -> RequestJson.MAPPER.readTree(p.getText());
                default -> NullNode.getInstance();
            };
        }
    }
}
