package dev.tokenbudget.fake;

import com.fasterxml.jackson.databind.node.ObjectNode;

/** OpenAI's error document: {@code {"error":{"message","type","param","code"}}}. */
final class OpenAiErrors {

    private OpenAiErrors() {
    }

    static ObjectNode body(String type, String message) {
        ObjectNode root = Wire.JSON.createObjectNode();
        ObjectNode e = root.putObject("error");
        e.put("message", message).put("type", type).putNull("param").putNull("code");
        return root;
    }
}
