package dev.tokenbudget.fake;

import com.knuddels.jtokkit.Encodings;
import com.knuddels.jtokkit.api.Encoding;
import com.knuddels.jtokkit.api.EncodingRegistry;
import com.knuddels.jtokkit.api.EncodingType;
import com.knuddels.jtokkit.api.IntArrayList;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Real token counts for the fake's usage numbers: OpenAI's o200k_base for current OpenAI models,
 * cl100k_base for older OpenAI models, and cl100k_base as a stand-in for Anthropic, whose
 * tokenizer is not public. Thread-safe; encodings load once.
 */
final class TokenCounter {

    private static final EncodingRegistry REGISTRY = Encodings.newLazyEncodingRegistry();
    /** Token pieces of the passages the fake answers with, by (encoding name, passage). */
    private static final Map<List<String>, List<String>> PIECES = new ConcurrentHashMap<>();

    private final Encoding encoding;

    private TokenCounter(Encoding encoding) {
        this.encoding = encoding;
    }

    static TokenCounter forModel(String model) {
        String m = model == null ? "" : model.toLowerCase(Locale.ROOT);
        boolean legacy = m.startsWith("gpt-3.5") || m.equals("gpt-4") || m.startsWith("gpt-4-")
                || m.startsWith("claude") || m.startsWith("text-embedding");
        return new TokenCounter(REGISTRY.getEncoding(legacy ? EncodingType.CL100K_BASE : EncodingType.O200K_BASE));
    }

    int count(String text) {
        return text == null || text.isEmpty() ? 0 : encoding.countTokens(text);
    }

    /**
     * The first {@code n} tokens of {@code text}, each decoded on its own (text must be ASCII).
     * Callers pass a constant passage: its pieces are computed once per encoding and kept, since
     * encoding the whole passage on every request made the fake, not the gateway in front of it,
     * the bottleneck of a load test.
     */
    List<String> firstTokens(String text, int n) {
        List<String> all = PIECES.computeIfAbsent(List.of(encoding.getName(), text), k -> pieces(text));
        return new ArrayList<>(all.subList(0, Math.min(n, all.size())));
    }

    private List<String> pieces(String text) {
        IntArrayList ids = encoding.encode(text);
        List<String> out = new ArrayList<>(ids.size());
        for (int i = 0; i < ids.size(); i++) {
            IntArrayList one = new IntArrayList(1);
            one.add(ids.get(i));
            out.add(encoding.decode(one));
        }
        return List.copyOf(out);
    }
}
