package dev.tokenbudget.console;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.Reader;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;

/**
 * A request trace for {@code simulate} (docs/simulate.md): a CSV with a header naming
 * {@code timestamp} (ISO-8601 with an offset, e.g. {@code 2026-11-02T09:15:00Z}), {@code key} (the
 * key's name in the config), {@code feature} and {@code model} (either may be empty), and
 * {@code input_tokens} and {@code output_tokens} (what the provider reported); optional
 * {@code max_tokens} (the output ceiling reserved; default the output tokens) and {@code user};
 * other columns are ignored. Rows are replayed in time order.
 */
final class TraceCsv {

    /** One request of the trace. */
    record Row(int line, Instant at, String key, String feature, String model, String user, long input, long output,
               long maxTokens) {
    }

    /** Unreadable input, with the line it happened on. */
    static final class FormatException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        FormatException(String message) {
            super(message);
        }
    }

    private static final long MAX = (1L << 53) - 1;

    private TraceCsv() {
    }

    static List<Row> read(Reader source, String name) throws IOException {
        BufferedReader r = new BufferedReader(source);
        String header = r.readLine();
        if (header == null) {
            throw new FormatException(name + ": empty file; expected a header row: timestamp,key,feature,model,"
                    + "input_tokens,output_tokens");
        }
        List<String> cols = new ArrayList<>(List.of(header.replace("\uFEFF", "").split(",", -1)));
        cols.replaceAll(c -> c.trim().toLowerCase(Locale.ROOT));
        for (String c : List.of("timestamp", "key", "feature", "model", "input_tokens", "output_tokens")) {
            if (!cols.contains(c)) {
                throw new FormatException(name + " line 1: the header lacks column '" + c + "'; needed: timestamp,"
                        + "key,feature,model,input_tokens,output_tokens");
            }
        }
        int ts = cols.indexOf("timestamp");
        int key = cols.indexOf("key");
        int feature = cols.indexOf("feature");
        int model = cols.indexOf("model");
        int in = cols.indexOf("input_tokens");
        int out = cols.indexOf("output_tokens");
        int max = cols.indexOf("max_tokens");
        int user = cols.indexOf("user");
        List<Row> rows = new ArrayList<>();
        String line;
        int no = 1;
        while ((line = r.readLine()) != null) {
            no++;
            if (line.isBlank()) {
                continue;
            }
            String[] f = line.split(",", -1);
            String where = name + " line " + no;
            if (f.length < cols.size()) {
                throw new FormatException(where + ": " + f.length + " columns, the header has " + cols.size());
            }
            long output = count(f[out], "output_tokens", where);
            long ceiling = max >= 0 && !f[max].isBlank() ? count(f[max], "max_tokens", where) : output;
            if (ceiling < output) {
                throw new FormatException(where + ": max_tokens " + ceiling + " is below output_tokens " + output);
            }
            String k = f[key].trim();
            if (k.isEmpty()) {
                throw new FormatException(where + ": key is empty");
            }
            rows.add(new Row(no, instant(f[ts].trim(), where), k, blankToNull(f[feature]), blankToNull(f[model]),
                    user >= 0 ? blankToNull(f[user]) : null, count(f[in], "input_tokens", where), output, ceiling));
        }
        if (rows.isEmpty()) {
            throw new FormatException(name + ": no requests after the header");
        }
        rows.sort(Comparator.comparing(Row::at)); // stable: rows at the same instant keep their order
        return rows;
    }

    private static String blankToNull(String s) {
        return s == null || s.isBlank() ? null : s.trim();
    }

    private static Instant instant(String s, String where) {
        try {
            return OffsetDateTime.parse(s).toInstant();
        } catch (DateTimeParseException e) {
            throw new FormatException(where + ": timestamp must be ISO-8601 with an offset such as "
                    + "2026-11-02T09:15:00Z, was '" + s + "'");
        }
    }

    private static long count(String s, String col, String where) {
        long v;
        try {
            v = Long.parseLong(s.trim());
        } catch (NumberFormatException e) {
            throw new FormatException(where + ": " + col + " must be a whole number of tokens, was '" + s.trim() + "'");
        }
        if (v < 0 || v > MAX) {
            throw new FormatException(where + ": " + col + " must be in 0.." + MAX + ", was " + v);
        }
        return v;
    }
}
