package dev.tokenbudget.fake;

import java.util.ArrayList;
import java.util.List;

/**
 * What the fake model "generates" for one request: a fixed English passage cut to a number of
 * tokens, as pieces of one token each, and whether the cut came from the request's output ceiling.
 */
final class ReplyPlan {

    /** ASCII only, so that every token decodes to a whole string on its own. */
    private static final String PASSAGE = "A token budget is an envelope: how many input and output tokens a "
            + "feature, a team or a tenant may spend in a window. The gateway estimates each request, reserves "
            + "its tokens on every budget along the path, forwards it, and settles with the usage the provider "
            + "reports. At ninety percent a customer-facing feature moves to a cheaper model instead of failing; "
            + "at the limit a hard stop answers with a clear error and the time of the next reset. Finance sees "
            + "the burn-down and its forecast long before the month is over, and nobody learns about an "
            + "overshoot from the invoice. ";

    private static final String LONG_PASSAGE = PASSAGE.repeat(64);

    final List<String> pieces;
    final String text;
    final boolean truncated;

    private ReplyPlan(List<String> pieces, boolean truncated) {
        this.pieces = pieces;
        this.text = String.join("", pieces);
        this.truncated = truncated;
    }

    /**
     * @param counter      tokenizer of the model
     * @param replyTokens  how long the model would like to answer
     * @param maxTokens    the request's output ceiling, or -1 for none
     */
    static ReplyPlan of(TokenCounter counter, int replyTokens, long maxTokens) {
        int n = replyTokens;
        boolean truncated = false;
        if (maxTokens >= 0 && maxTokens < n) {
            n = (int) maxTokens;
            truncated = true;
        }
        return new ReplyPlan(new ArrayList<>(counter.firstTokens(LONG_PASSAGE, n)), truncated);
    }

    int outputTokens() {
        return pieces.size();
    }

    /** Pieces grouped {@code perChunk} tokens to a chunk. */
    List<String> chunks(int perChunk) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < pieces.size(); i += perChunk) {
            out.add(String.join("", pieces.subList(i, Math.min(pieces.size(), i + perChunk))));
        }
        return out;
    }
}
