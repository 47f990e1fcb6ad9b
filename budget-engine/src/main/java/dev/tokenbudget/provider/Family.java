package dev.tokenbudget.provider;

/** A wire-format family: providers of one family share request, response and error shapes. */
public enum Family {
    /** OpenAI's API, Azure OpenAI and OpenAI-compatible servers (vLLM, Ollama, LiteLLM, ...). */
    OPENAI,
    /** Anthropic's Messages API. */
    ANTHROPIC,
    /** Google's Gemini API ({@code generativelanguage.googleapis.com}) and Gemini on Vertex AI. */
    GEMINI,
    /**
     * AWS Bedrock Runtime: Converse and ConverseStream, and InvokeModel / InvokeModelWithResponseStream
     * (whose bodies are the model's own, Anthropic's Messages for Claude), with Bedrock's errors.
     */
    BEDROCK
}
