package dev.tokenbudget.provider;

/**
 * What a request body says that budgeting needs.
 *
 * @param model              the requested model from the body, or null (Gemini and Azure name it in the path)
 * @param stream             the client asked for a streamed response
 * @param streamUsage        an OpenAI-family stream already asks for usage ({@code stream_options.include_usage})
 * @param maxOutputTokens    the output ceiling the body sets per choice, or -1 when it sets none
 * @param choices            how many completions the request asks for ({@code n}, {@code candidateCount}), >= 1
 * @param prompt             the text the model reads, for the input estimate
 * @param problem            why the body cannot be accepted (answer 400), or null
 */
public record RequestFacts(String model, boolean stream, boolean streamUsage, long maxOutputTokens, int choices,
                           PromptText prompt, String problem) {

    public static RequestFacts invalid(String problem) {
        return new RequestFacts(null, false, false, -1, 1, PromptText.EMPTY, problem);
    }

    public boolean valid() {
        return problem == null;
    }
}
