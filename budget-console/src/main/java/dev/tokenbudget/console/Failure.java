package dev.tokenbudget.console;

import java.io.PrintWriter;
import java.util.List;

/**
 * How commands report a failure: on standard error, then exit code 1 ({@link #FAILED}), or 2
 * ({@link #USAGE}) when the flags themselves are wrong or missing.
 */
final class Failure {

    static final int FAILED = 1;
    static final int USAGE = 2;

    private Failure() {
    }

    /** One line, {@code command: message}; exit code 1. */
    static int report(PrintWriter err, String command, String message) {
        return print(err, command + ": " + message, FAILED);
    }

    /** One line about the flags, {@code command: message}; exit code 2. */
    static int usage(PrintWriter err, String command, String message) {
        return print(err, command + ": " + message, USAGE);
    }

    /** A heading, then each problem on a line of its own, indented (every error of a config); exit code 1. */
    static int listing(PrintWriter err, String heading, List<?> problems) {
        err.println(heading);
        for (Object p : problems) {
            err.println("  " + p);
        }
        err.flush();
        return FAILED;
    }

    private static int print(PrintWriter err, String line, int exitCode) {
        err.println(line);
        err.flush();
        return exitCode;
    }
}
