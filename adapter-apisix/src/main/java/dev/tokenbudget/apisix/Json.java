package dev.tokenbudget.apisix;

import com.fasterxml.jackson.core.io.JsonStringEncoder;

/** JSON string quoting for the few bodies this adapter writes itself. */
final class Json {

    private Json() {
    }

    static String quote(String s) {
        return "\"" + new String(JsonStringEncoder.getInstance().quoteAsString(s)) + "\"";
    }
}
