package dev.tokenbudget.provider;

/** A wire-format family: providers of one family share request, response and error shapes. */
public enum Family {
    /** OpenAI's API, Azure OpenAI and OpenAI-compatible servers (vLLM, Ollama, LiteLLM, ...). */
    OPENAI,
    /** Anthropic's Messages API. */
    ANTHROPIC,
    /** Google's Gemini API ({@code generativelanguage.googleapis.com}). */
    GEMINI
}
