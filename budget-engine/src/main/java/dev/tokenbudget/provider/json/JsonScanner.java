package dev.tokenbudget.provider.json;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.async.ByteArrayFeeder;

import java.io.IOException;
import java.util.Arrays;
import java.util.Objects;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * Reads a JSON text incrementally, chunk by chunk as it arrives (Jackson's non-blocking parser),
 * and reports the scalars found at a fixed set of paths. Memory stays bounded: only the current
 * path and the current token are held, never the document.
 *
 * <p>A path names object fields from the root joined by {@code '.'}; arrays add no segment, so
 * {@code usage.prompt_tokens} matches in {@code {"usage":{...}}} and in every element of a root
 * array {@code [{"usage":{...}}, ...]} (Gemini's non-SSE stream). Subtrees no wanted path enters are
 * skipped cheaply. Several root values in a row are accepted.
 *
 * <p>After malformed input the scanner stops and {@link #failure()} says why; it never throws.
 * Not thread-safe.
 */
public final class JsonScanner {

    private static final JsonFactory FACTORY = JsonFactory.builder()
            .streamReadConstraints(StreamReadConstraints.builder()
                    .maxStringLength(16 << 20)
                    .maxNestingDepth(512)
                    .maxNumberLength(64)
                    .build())
            .build();

    /**
     * Request bodies: one root value, a duplicated field name is malformed, and numbers and nesting
     * bounded as the request parser ({@code RequestJson}) bounds them.
     */
    private static final JsonFactory STRICT = JsonFactory.builder()
            .streamReadConstraints(StreamReadConstraints.builder()
                    .maxNestingDepth(256)
                    .maxNumberLength(200)
                    .build())
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .build();

    /**
     * Receives every token, for a reader that needs the document's structure (a request's prompt)
     * rather than scalars at fixed paths. It may throw a {@link RuntimeException} to stop the scan,
     * which then fails with that exception's message.
     */
    @FunctionalInterface
    public interface Tokens {
        void token(JsonToken token, JsonParser parser) throws IOException;
    }

    /** Receives matched scalars. */
    @FunctionalInterface
    public interface Sink {
        void value(String path, Scalar value);
    }

    /** A fixed set of wanted paths with their prefixes, computed once and shared by scanners. */
    public static final class Paths {
        private final Set<String> paths;
        /**
         * Per level prefix ({@code ""} for the root), the wanted prefix a field name leads to, and the
         * wanted path a scalar field is: the same strings that concatenating prefix, name and
         * {@code '.'} and looking the result up would give, found without building a string per token.
         */
        private final Map<String, Map<String, String>> children;
        private final Map<String, Map<String, String>> leaves;
        /** Per prefix, the wanted path an array element's scalar there is (prefix without its dot). */
        private final Map<String, String> elements;

        private Paths(Set<String> paths) {
            this.paths = Set.copyOf(paths);
            HashSet<String> pre = new java.util.HashSet<>();
            for (String p : this.paths) {
                for (int i = p.indexOf('.'); i >= 0; i = p.indexOf('.', i + 1)) {
                    pre.add(p.substring(0, i + 1));
                }
                pre.add(p + "."); // a wanted path may also hold an array of scalars
            }
            HashSet<String> levels = new HashSet<>(pre);
            levels.add("");
            Map<String, Map<String, String>> ch = new HashMap<>();
            Map<String, Map<String, String>> lv = new HashMap<>();
            Map<String, String> el = new HashMap<>();
            for (String level : levels) {
                Map<String, String> c = new HashMap<>();
                for (String w : pre) {
                    if (w.startsWith(level) && w.length() > level.length()) {
                        c.put(w.substring(level.length(), w.length() - 1), w);
                    }
                }
                Map<String, String> l = new HashMap<>();
                for (String p : this.paths) {
                    if (p.startsWith(level)) {
                        l.put(p.substring(level.length()), p);
                    }
                }
                ch.put(level, Map.copyOf(c));
                lv.put(level, Map.copyOf(l));
                if (!level.isEmpty() && this.paths.contains(level.substring(0, level.length() - 1))) {
                    el.put(level, level.substring(0, level.length() - 1));
                }
            }
            this.children = Map.copyOf(ch);
            this.leaves = Map.copyOf(lv);
            this.elements = Map.copyOf(el);
        }

        public static Paths of(String... paths) {
            return new Paths(Set.of(paths));
        }

        public static Paths of(Set<String> paths) {
            return new Paths(paths);
        }

        public Set<String> paths() {
            return paths;
        }
    }

    /**
     * Bytes a parser reads over the documents of a stream ({@link #endDocument()}) before it is let
     * go at the end of one: a stream holds no long string's buffer, nor the names of more than this
     * many bytes of documents, from one event to the next.
     */
    static final int REUSE_CAP = 64 * 1024;

    private final Paths paths;
    private final Sink sink;
    private final Tokens tokens;
    private final JsonFactory factory;
    // null until the first byte, and again after a document that leaves it unfit for the next
    private JsonParser parser;
    private ByteArrayFeeder feeder;
    // bytes of the current document fed so far, and whether its first byte opens an object or array;
    // bytes the parser read
    private long docBytes;
    private long parserBytes;
    private boolean startsContainer;
    // per level, the dotted path leading to it ("usage.") or null when no wanted path lies below
    private String[] prefixes = new String[16];
    private int depth;
    private String pendingField;
    private String failure;
    private boolean sawValue;
    private final HeldSeparator separators = new HeldSeparator(this::push);
    // token mode: the root value ended, so any further token is trailing content
    private boolean rootDone;

    public JsonScanner(Paths paths, Sink sink) {
        this(Objects.requireNonNull(paths, "paths"), Objects.requireNonNull(sink, "sink"), null, FACTORY);
    }

    /**
     * A scanner of one request body that hands every token to {@code tokens}: strict where
     * {@link #JsonScanner(Paths, Sink)} is lenient (a second root value, a duplicated field name and
     * nesting over 256 are malformed), chunks split anywhere as for responses.
     */
    public static JsonScanner strict(Tokens tokens) {
        return new JsonScanner(null, null, Objects.requireNonNull(tokens, "tokens"), STRICT);
    }

    private JsonScanner(Paths paths, Sink sink, Tokens tokens, JsonFactory factory) {
        this.paths = paths;
        this.sink = sink;
        this.tokens = tokens;
        this.factory = factory;
    }

    private void newParser() {
        release();
        JsonParser p;
        try {
            p = factory.createNonBlockingByteArrayParser();
        } catch (IOException e) {
            throw new IllegalStateException("Jackson cannot create a non-blocking parser", e);
        }
        parser = p;
        feeder = (ByteArrayFeeder) p.getNonBlockingInputFeeder();
        parserBytes = 0;
    }

    /** Feeds the next bytes. The array is read before this returns and not kept. */
    public void feed(byte[] b, int off, int len) {
        if (failure != null || len == 0) {
            return;
        }
        if (docBytes == 0) {
            // a parser kept between documents is where a fresh one would be only before an object or
            // an array (a fresh one also takes a byte order mark first): anything else gets a fresh one
            startsContainer = b[off] == '{' || b[off] == '[';
            if (parser == null || !startsContainer) {
                newParser();
            }
        }
        docBytes += len;
        parserBytes += len;
        separators.feed(b, off, len);
    }

    /**
     * Ends one document of a stream of documents (an SSE event's data, an event-stream frame's
     * payload) and readies this scanner for the next. Returns why the document is malformed, or
     * null, as {@link #end()} and {@link #failure()} of a scanner made for that document alone would
     * judge it. The Jackson parser is kept for the next document (a parser costs more to make than
     * most events cost to read) only when this one began with <code>{</code> or {@code [} and was
     * one object or array, closed, with only blanks after it: the parser then stands where a fresh
     * one would before an object or an array. Any other document is judged at the end of its input
     * like a document alone, and the next one starts on a fresh parser, as does the one after the
     * parser read {@value #REUSE_CAP} bytes.
     */
    public String endDocument() {
        String why = failure;
        boolean keep = why == null && (docBytes == 0 || startsContainer && depth == 0 && separators.closedAlone()
                && parserBytes <= REUSE_CAP);
        if (!keep) {
            if (why == null) {
                why = finishInput();
            }
            release();
        }
        failure = null;
        depth = 0;
        pendingField = null;
        sawValue = false;
        rootDone = false;
        docBytes = 0;
        separators.reset();
        return why;
    }

    /** Lets the parser go without judging what was fed: the stream ended (or was cut) between or inside documents. */
    public void close() {
        release();
    }

    private boolean push(byte[] b, int from, int to) {
        if (failure != null) {
            return false;
        }
        try {
            feeder.feedInput(b, from, to);
            drain();
            return true;
        } catch (IOException | RuntimeException e) {
            fail(e);
            return false;
        }
    }

    /** Signals the end of input: an unfinished document becomes a failure. */
    public void end() {
        if (failure == null) {
            finishInput();
        }
        release();
    }

    /** Ends the parser's input: returns the failure, if the input is malformed (cut short included). */
    private String finishInput() {
        if (!separators.end()) {
            return failure;
        }
        if (parser == null) {
            newParser(); // nothing was fed: a fresh parser judges the empty input
        }
        try {
            feeder.endOfInput();
            drain();
        } catch (IOException | RuntimeException e) {
            fail(e);
        }
        if (depth > 0) {
            failure = "truncated JSON: the input ended inside a value";
        }
        return failure;
    }

    /**
     * Closes the parser once nothing more will be read: its text buffers go back to Jackson's
     * per-thread recycler and the field names it met into its factory's shared table, so the next
     * scanner on the thread neither allocates those buffers nor copies the table to add the same
     * names again (a scanner is made per request body and per response; a stream's documents share
     * one while they end cleanly, see {@link #endDocument()}).
     */
    private void release() {
        if (parser == null) {
            return;
        }
        try {
            parser.close();
        } catch (IOException | RuntimeException ignored) {
            // closing a byte-array parser cannot fail in a way that matters here
        }
        parser = null;
        feeder = null;
    }

    /** Why scanning stopped early, or null while the input is well-formed so far. */
    public String failure() {
        return failure;
    }

    /** True once at least one complete or partial root value was seen. */
    public boolean sawValue() {
        return sawValue;
    }

    private void fail(Exception e) {
        String m = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        // Jackson appends location noise about a redacted source; the first clause says what went wrong
        for (String cut : new String[] {"\n", " (start marker", " at [Source"}) {
            int i = m.indexOf(cut);
            if (i > 0) {
                m = m.substring(0, i);
            }
        }
        failure = "malformed JSON: " + m;
        // nothing more will be read: let go of the token buffer (up to 16 Mi chars of an over-long string)
        release();
    }

    private void drain() throws IOException {
        JsonToken t;
        while ((t = parser.nextToken()) != null && t != JsonToken.NOT_AVAILABLE) {
            sawValue = true;
            if (tokens != null) {
                token(t);
                continue;
            }
            switch (t) {
                case START_OBJECT, START_ARRAY -> push(pendingField);
                case END_OBJECT, END_ARRAY -> depth--;
                case FIELD_NAME -> pendingField = parser.currentName();
                default -> scalar(t);
            }
            if (t != JsonToken.FIELD_NAME) {
                pendingField = null;
            }
        }
    }

    private void token(JsonToken t) throws IOException {
        if (rootDone) {
            throw new IllegalStateException("trailing content after the JSON value");
        }
        switch (t) {
            case START_OBJECT, START_ARRAY -> depth++;
            case END_OBJECT, END_ARRAY -> depth--;
            default -> {
            }
        }
        tokens.token(t, parser);
        rootDone = depth == 0 && t != JsonToken.FIELD_NAME;
    }

    private void push(String name) {
        if (depth == prefixes.length) {
            prefixes = Arrays.copyOf(prefixes, depth * 2);
        }
        // a level carries the name of the field holding it; array elements and roots add nothing
        String parent = depth == 0 ? "" : prefixes[depth - 1];
        String prefix;
        if (parent == null) {
            prefix = null; // below a subtree that no wanted path enters
        } else if (name == null) {
            prefix = parent;
        } else {
            prefix = paths.children.get(parent).get(name); // null: no wanted path below
        }
        prefixes[depth++] = prefix;
    }

    private void scalar(JsonToken t) throws IOException {
        String path = path(pendingField);
        if (path == null) {
            return;
        }
        sink.value(path, Scalar.read(t, parser));
    }

    /** The wanted path of a value named {@code field} at the current depth, or null when it is not one. */
    private String path(String field) {
        String prefix = depth == 0 ? "" : prefixes[depth - 1];
        if (prefix == null) {
            return null;
        }
        return field != null ? paths.leaves.get(prefix).get(field) : paths.elements.get(prefix);
    }
}
