package dev.tokenbudget.console;

import java.io.PrintWriter;

/** How commands report a failure: one line on standard error, exit code 1. */
final class Failure {

    private Failure() {
    }

    static int report(PrintWriter err, String command, String message) {
        err.println(command + ": " + message);
        err.flush();
        return 1;
    }
}
