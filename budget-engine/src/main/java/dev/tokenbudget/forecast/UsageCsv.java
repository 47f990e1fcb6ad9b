package dev.tokenbudget.forecast;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.Reader;
import java.time.LocalDate;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.TreeMap;

/**
 * Reads daily usage from CSV: a header row naming {@code date} (YYYY-MM-DD) and either
 * {@code total_tokens} or both {@code input_tokens} and {@code output_tokens}; other columns are
 * ignored. Days missing between the first and the last are 0; a day listed twice is an error.
 * Errors name the line and the column.
 */
public final class UsageCsv {

    /** Largest daily count accepted (2^53 - 1, as everywhere in the engine). */
    private static final long MAX = (1L << 53) - 1;

    private UsageCsv() {
    }

    /** Thrown for unreadable input, with the line it happened on. */
    public static final class FormatException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        public FormatException(String message) {
            super(message);
        }
    }

    public static DailySeries read(Reader in, String name) throws IOException {
        BufferedReader r = new BufferedReader(in);
        String header = r.readLine();
        if (header == null) {
            throw new FormatException(name + ": empty file; expected a header row with date and total_tokens "
                    + "(or input_tokens and output_tokens)");
        }
        List<String> cols = split(header.startsWith("\uFEFF") ? header.substring(1) : header);
        cols.replaceAll(c -> c.trim().toLowerCase(Locale.ROOT));
        int date = cols.indexOf("date");
        int total = cols.indexOf("total_tokens");
        int input = cols.indexOf("input_tokens");
        int output = cols.indexOf("output_tokens");
        if (date < 0 || (total < 0 && (input < 0 || output < 0))) {
            throw new FormatException(name + " line 1: the header must name date and total_tokens, or date, "
                    + "input_tokens and output_tokens; found " + cols);
        }
        TreeMap<LocalDate, Long> days = new TreeMap<>();
        String line;
        int no = 1;
        while ((line = r.readLine()) != null) {
            no++;
            if (line.isBlank()) {
                continue;
            }
            List<String> f = split(line);
            String where = name + " line " + no;
            LocalDate d = date(field(f, date, "date", where), where);
            long v = total >= 0 ? count(field(f, total, "total_tokens", where), "total_tokens", where)
                    : count(field(f, input, "input_tokens", where), "input_tokens", where)
                    + count(field(f, output, "output_tokens", where), "output_tokens", where);
            if (days.put(d, v) != null) {
                throw new FormatException(where + ": date " + d + " appears twice");
            }
        }
        if (days.isEmpty()) {
            throw new FormatException(name + ": no data rows after the header");
        }
        LocalDate first = days.firstKey();
        int n = (int) java.time.temporal.ChronoUnit.DAYS.between(first, days.lastKey()) + 1;
        long[] values = new long[n];
        days.forEach((d, v) -> values[(int) java.time.temporal.ChronoUnit.DAYS.between(first, d)] = v);
        return DailySeries.of(first, values);
    }

    private static String field(List<String> f, int i, String col, String where) {
        if (i >= f.size()) {
            throw new FormatException(where + ": missing column " + col);
        }
        return f.get(i).trim();
    }

    private static LocalDate date(String s, String where) {
        try {
            return LocalDate.parse(s);
        } catch (DateTimeParseException e) {
            throw new FormatException(where + ": date must be YYYY-MM-DD, was '" + s + "'");
        }
    }

    private static long count(String s, String col, String where) {
        long v;
        try {
            v = s.isEmpty() ? 0 : Long.parseLong(s);
        } catch (NumberFormatException e) {
            throw new FormatException(where + ": " + col + " must be a whole number of tokens, was '" + s + "'");
        }
        if (v < 0 || v > MAX) {
            throw new FormatException(where + ": " + col + " must be in 0.." + MAX + ", was " + v);
        }
        return v;
    }

    /** Splits one CSV line on commas, honouring double quotes ({@code ""} inside quotes is a quote). */
    static List<String> split(String line) {
        List<String> out = new ArrayList<>();
        StringBuilder cur = new StringBuilder();
        boolean quoted = false;
        for (int i = 0; i < line.length(); i++) {
            char c = line.charAt(i);
            if (quoted) {
                if (c == '"' && i + 1 < line.length() && line.charAt(i + 1) == '"') {
                    cur.append('"');
                    i++;
                } else if (c == '"') {
                    quoted = false;
                } else {
                    cur.append(c);
                }
            } else if (c == '"') {
                quoted = true;
            } else if (c == ',') {
                out.add(cur.toString());
                cur.setLength(0);
            } else {
                cur.append(c);
            }
        }
        out.add(cur.toString());
        return out;
    }
}
