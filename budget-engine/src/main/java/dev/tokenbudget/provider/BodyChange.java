package dev.tokenbudget.provider;

import java.util.Map;

/**
 * What to change in a request body; everything else stays as the client sent it, in its order.
 *
 * @param model              model to put in the body's {@code model} field (when the body has one), or null
 * @param maxOutputTokens    clamp of the output ceiling (lowers the field present, or adds the
 *                           provider's field when none is), or -1 for none
 * @param systemPrompts      exact system prompt text to the text replacing it
 * @param includeStreamUsage ask an OpenAI-family chat/completions stream to report usage
 *                           ({@code stream_options.include_usage: true})
 */
public record BodyChange(String model, long maxOutputTokens, Map<String, String> systemPrompts,
                         boolean includeStreamUsage) {

    public static final BodyChange NONE = new BodyChange(null, -1, Map.of(), false);

    public BodyChange {
        systemPrompts = Map.copyOf(systemPrompts);
    }

    public boolean isEmpty() {
        return model == null && maxOutputTokens < 0 && systemPrompts.isEmpty() && !includeStreamUsage;
    }
}
