package dev.tokenbudget.gateway;

import dev.tokenbudget.provider.Endpoint;
import dev.tokenbudget.provider.Provider;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What a request path says: the provider (when the path tells), the endpoint, and the model named
 * in the path (Gemini's and Vertex's {@code models/{model}:...}, Azure's {@code deployments/{name}/...},
 * Bedrock's {@code model/{modelId}/...}) with
 * its position, so a degraded request's path can name another model.
 *
 * @param provider   the provider the path implies
 * @param endpoint   the operation; {@link Endpoint#UNMETERED} for reads and token counting
 * @param pathModel  the model or deployment in the path (URL-decoded), or null
 * @param modelStart start of the model segment in {@code path}, or -1
 * @param modelEnd   end of the model segment in {@code path}, or -1
 * @param known      false for a POST that matched no known operation (it may generate tokens we cannot meter)
 */
record Route(Provider provider, Endpoint endpoint, String pathModel, int modelStart, int modelEnd, boolean known) {

    private static final Pattern AZURE_DEPLOYMENT = Pattern.compile(
            ".*/openai/deployments/([^/]+)/(chat/completions|completions|embeddings|responses)/?");
    private static final Pattern GEMINI = Pattern.compile(
            ".*/models/([^/:]+):(generateContent|streamGenerateContent|countTokens|embedContent|batchEmbedContents)");

    /** Bedrock Runtime: {@code /model/{modelId}/{operation}}, the model id URL-encoded (an ARN's {@code :} and {@code /}). */
    private static final Pattern BEDROCK = Pattern.compile(
            "(?:.*)/model/([^/]+)/(converse|converse-stream|invoke|invoke-with-response-stream|count-tokens)/?");
    /** Vertex AI: {@code .../projects/{p}/locations/{l}/publishers/{publisher}/models/{model}:{method}}. */
    private static final Pattern VERTEX = Pattern.compile(
            ".*/projects/[^/]+/locations/[^/]+/publishers/([^/]+)/models/([^/:]+):([A-Za-z]+)");

    /** Reads a path (with or without query) and method; {@code forced} overrides the provider when not null. */
    static Route of(String method, String pathWithQuery, Provider forced) {
        int q = pathWithQuery.indexOf('?');
        String path = q < 0 ? pathWithQuery : pathWithQuery.substring(0, q);
        String query = q < 0 ? "" : pathWithQuery.substring(q + 1);
        boolean post = "POST".equals(method == null ? "" : method.toUpperCase(Locale.ROOT));
        Route r = detect(path, query, post);
        if (forced != null && forced != r.provider) {
            r = new Route(forced, r.endpoint, r.pathModel, r.modelStart, r.modelEnd, r.known);
        }
        return r;
    }

    private static Route detect(String path, String query, boolean post) {
        // each pattern needs a literal its leading .* would otherwise scan the whole path for, per request
        Route cloud = path.contains("/model/") ? bedrock(path, post)
                : path.contains("/publishers/") ? vertex(path, post) : null;
        if (cloud != null) {
            return cloud;
        }
        Matcher m = path.contains("/openai/deployments/") ? AZURE_DEPLOYMENT.matcher(path) : null;
        if (m != null && m.matches()) {
            Endpoint e = openAiEndpoint("/" + m.group(2));
            return new Route(Provider.AZURE_OPENAI, post ? e : Endpoint.UNMETERED, decode(m.group(1)), m.start(1),
                    m.end(1), true);
        }
        m = path.indexOf(':') >= 0 && path.contains("/models/") ? GEMINI.matcher(path) : null;
        if (m != null && m.matches()) {
            Endpoint e = switch (m.group(2)) {
                case "generateContent" -> Endpoint.GENERATE_CONTENT;
                case "streamGenerateContent" -> Endpoint.STREAM_GENERATE_CONTENT;
                default -> Endpoint.UNMETERED; // counting and embeddings report no usage to settle with
            };
            return new Route(Provider.GEMINI, e, decode(m.group(1)), m.start(1), m.end(1), true);
        }
        Provider family = path.contains("/openai/") && query.contains("api-version=") ? Provider.AZURE_OPENAI
                : Provider.OPENAI;
        if (path.endsWith("/messages/count_tokens")) {
            return new Route(Provider.ANTHROPIC, Endpoint.UNMETERED, null, -1, -1, true);
        }
        if (path.endsWith("/v1/messages") || path.equals("/messages")) {
            return new Route(Provider.ANTHROPIC, post ? Endpoint.MESSAGES : Endpoint.UNMETERED, null, -1, -1, true);
        }
        Endpoint e = openAiEndpoint(path);
        if (e != null) {
            return new Route(family, post ? e : Endpoint.UNMETERED, null, -1, -1, true);
        }
        if (path.contains("/v1beta/")) {
            return new Route(Provider.GEMINI, Endpoint.UNMETERED, null, -1, -1, !post);
        }
        return new Route(family, Endpoint.UNMETERED, null, -1, -1, !post);
    }

    private static Route bedrock(String path, boolean post) {
        Matcher m = BEDROCK.matcher(path);
        if (!m.matches()) {
            return null;
        }
        Endpoint e = switch (m.group(2)) {
            case "converse" -> Endpoint.CONVERSE;
            case "converse-stream" -> Endpoint.CONVERSE_STREAM;
            case "invoke" -> Endpoint.INVOKE_MODEL;
            case "invoke-with-response-stream" -> Endpoint.INVOKE_MODEL_STREAM;
            default -> Endpoint.UNMETERED; // CountTokens
        };
        return new Route(Provider.BEDROCK, post ? e : Endpoint.UNMETERED, decode(m.group(1)), m.start(1), m.end(1),
                true);
    }

    private static Route vertex(String path, boolean post) {
        Matcher m = VERTEX.matcher(path);
        if (!m.matches()) {
            return null;
        }
        String publisher = m.group(1);
        String model = decode(m.group(2));
        Endpoint e = switch (publisher + ":" + m.group(3)) {
            case "google:generateContent" -> Endpoint.GENERATE_CONTENT;
            case "google:streamGenerateContent" -> Endpoint.STREAM_GENERATE_CONTENT;
            // Anthropic's token counting on Vertex is rawPredict on the pseudo-model count-tokens
            case "anthropic:rawPredict" -> model.equals("count-tokens") ? Endpoint.UNMETERED : Endpoint.RAW_PREDICT;
            case "anthropic:streamRawPredict" -> Endpoint.STREAM_RAW_PREDICT;
            case "google:countTokens", "google:computeTokens", "anthropic:countTokens" -> Endpoint.UNMETERED;
            default -> null; // other publishers' and methods' bodies are not read: not metered
        };
        if (e == null) {
            return new Route(Provider.VERTEX, Endpoint.UNMETERED, model, m.start(2), m.end(2), !post);
        }
        return new Route(Provider.VERTEX, post ? e : Endpoint.UNMETERED, model, m.start(2), m.end(2), true);
    }

    private static Endpoint openAiEndpoint(String path) {
        String p = path.endsWith("/") ? path.substring(0, path.length() - 1) : path;
        if (p.endsWith("/chat/completions")) {
            return Endpoint.CHAT_COMPLETIONS;
        }
        if (p.endsWith("/completions")) {
            return Endpoint.COMPLETIONS;
        }
        if (p.endsWith("/responses")) {
            return Endpoint.RESPONSES;
        }
        if (p.endsWith("/embeddings")) {
            return Endpoint.EMBEDDINGS;
        }
        return null;
    }

    private static String decode(String segment) {
        try {
            return URLDecoder.decode(segment.replace("+", "%2B"), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            return segment;
        }
    }

    /** The path with the model segment replaced by {@code model} (URL-encoded). */
    String withModel(String pathWithQuery, String model) {
        if (modelStart < 0) {
            return pathWithQuery;
        }
        String enc = java.net.URLEncoder.encode(model, StandardCharsets.UTF_8).replace("+", "%20");
        return pathWithQuery.substring(0, modelStart) + enc + pathWithQuery.substring(modelEnd);
    }
}
