package dev.tokenbudget.provider;

import dev.tokenbudget.provider.json.JsonScanner;
import dev.tokenbudget.provider.json.Scalar;


/**
 * Turns the JSON documents of one response (the whole body, or each SSE event's data) into a
 * {@link UsageReport}. Each codec subclasses it with the paths it reads and how usage accumulates
 * in its format (OpenAI reports once; Anthropic and Gemini report cumulative totals, which are
 * assigned, never added). One instance per response; not thread-safe ({@link UsageReader} drives it).
 */
public abstract class UsageCollector {

    /** Values of the current document, last one wins (Gemini's JSON-array stream repeats paths cumulatively). */
    final DocValues doc = new DocValues();
    /** The current SSE event's type ({@code event:} line), or null. */
    protected String eventType;

    protected String model;
    protected Long input;
    protected Long output;
    protected Long cached;
    protected Long reasoning;
    protected boolean complete;
    protected String error;
    protected String note;
    private boolean invalid;

    /** The paths this collector reads. */
    protected abstract JsonScanner.Paths paths();

    /** Called at the end of each well-formed document with {@link #doc} filled. */
    protected abstract void apply();

    /**
     * The names a streamed event (an SSE event's data, an AWS event-stream frame's payload) must
     * hold for {@link #apply()} to learn anything from it beyond the model, or null when every
     * event is to be parsed (the default). Events without them are skipped unparsed, except while
     * {@link #readsEveryEvent()}.
     */
    protected EventKeys eventKeys() {
        return null;
    }

    /**
     * True while every event must be parsed whatever {@link #eventKeys()} say: by default until an
     * event named the model, which most formats repeat in events without usage. So a stream's model
     * is the one its first events name, or the one its usage event names; only a stream whose events
     * named different models and that never reported usage could report another one than before.
     */
    protected boolean readsEveryEvent() {
        return model == null;
    }

    /** Whether the streamed event {@code b[off, off + len)} is to be parsed (see {@link #eventKeys()}). */
    final boolean wants(byte[] b, int off, int len) {
        EventKeys keys = eventKeys();
        return keys == null || readsEveryEvent() || keys.mayHold(b, off, len);
    }

    final void begin(String type) {
        doc.clear();
        eventType = type;
    }

    final void value(String path, Scalar v) {
        doc.put(path, v);
    }

    /** Ends a document; a malformed one (e.g. the {@code [DONE]} sentinel) is ignored. */
    final void end(String failure) {
        if (failure == null && !doc.isEmpty()) {
            apply();
        }
        doc.clear();
        eventType = null;
    }

    /**
     * Ends a whole JSON body: once it parsed completely, the usage it carries is final whatever
     * the format's streaming markers say.
     */
    final void endBody(String failure) {
        end(failure);
        if (failure == null && input != null && output != null) {
            complete = true;
        }
    }

    /** Notes something that makes usage partial or unknown; the first note is kept. */
    final void note(String why) {
        if (note == null) {
            note = why;
        }
    }

    /**
     * Takes over what {@code inner} has collected so far, for formats that wrap another format's
     * documents (Bedrock's InvokeModelWithResponseStream carries Anthropic's events inside its own).
     */
    final void adopt(UsageCollector inner) {
        model(inner.model);
        input = inner.input;
        output = inner.output;
        cached = inner.cached;
        reasoning = inner.reasoning;
        complete = inner.complete;
        if (inner.error != null) {
            error(inner.error);
        }
        if (inner.note != null) {
            note(inner.note);
        }
        invalid |= inner.invalid;
    }

    /** The current document's string at {@code path}, or null. */
    protected final String text(String path) {
        Scalar s = doc.get(path);
        return s == null || s.kind() != Scalar.Kind.STRING ? null : s.text();
    }

    /** True when the current document has a non-null value at {@code path}. */
    protected final boolean has(String path) {
        Scalar s = doc.get(path);
        return s != null && !s.isNull();
    }

    /**
     * The current document's token count at {@code path}: null when absent or JSON null; when the
     * value is not a valid count (negative, above 2^53-1, fractional, a string) the whole usage of
     * the response becomes unknown, with a note naming the value.
     */
    protected final Long count(String path) {
        Scalar s = doc.get(path);
        if (s == null || s.isNull()) {
            return null;
        }
        if (!s.isCount()) {
            invalid = true;
            note(path + " was " + (s.kind() == Scalar.Kind.STRING ? "\"" + s.text() + "\"" : s.text())
                    + ", not a token count in 0.." + Scalar.MAX_COUNT + "; usage treated as unknown");
            return null;
        }
        return s.count();
    }

    /** Sum of counts where any is present (absent ones count 0); null when none is present. */
    protected final Long sum(Long... parts) {
        Long total = null;
        for (Long p : parts) {
            if (p != null) {
                total = (total == null ? 0 : total) + p;
            }
        }
        if (total != null && total > Scalar.MAX_COUNT) {
            invalid = true;
            note("counts add up beyond " + Scalar.MAX_COUNT + "; usage treated as unknown");
            return null;
        }
        return total;
    }

    /** Keeps a non-blank model name. */
    protected final void model(String m) {
        if (m != null && !m.isBlank()) {
            model = m;
        }
    }

    /** Keeps the first provider error message seen. */
    protected final void error(String message) {
        if (error == null) {
            error = message == null || message.isBlank() ? "provider error" : message;
        }
    }

    /** The usage so far. */
    public final UsageReport report() {
        if (invalid) {
            return new UsageReport(model, null, null, null, null, false, error, note);
        }
        if (input != null && output != null && input + output > Scalar.MAX_COUNT) {
            // each count valid, but no store can hold their sum (found by MaliciousUpstreamTest:
            // settling it failed as if the store were down, holding the reservation until its lease ran out)
            return new UsageReport(model, null, null, null, null, false, error, note != null ? note
                    : "input and output add up beyond " + Scalar.MAX_COUNT + "; usage treated as unknown");
        }
        return new UsageReport(model, input, output, cached, reasoning, complete, error, note);
    }
}
