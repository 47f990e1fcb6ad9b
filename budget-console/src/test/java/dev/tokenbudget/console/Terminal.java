package dev.tokenbudget.console;

import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;

/**
 * The command line as {@code bin/tokenbudget} runs it, with what it prints to standard output and
 * standard error kept for the test (across runs, until cleared).
 */
final class Terminal {

    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    /** Runs {@code tokenbudget args...} and returns its exit code. */
    int run(String... args) {
        CommandLine cl = new CommandLine(new TokenBudgetCli());
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        return cl.execute(args);
    }

    /** Standard output so far. */
    String out() {
        return out.toString();
    }

    /** Standard error so far. */
    String err() {
        return err.toString();
    }

    /** Forgets the standard output so far, so that the next run's stands alone. */
    void clearOut() {
        out.getBuffer().setLength(0);
    }
}
