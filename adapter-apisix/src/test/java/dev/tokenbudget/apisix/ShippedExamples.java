package dev.tokenbudget.apisix;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The shipped {@code examples/apisix} files as the real-APISIX tests run them: changed only where
 * this machine differs (hosts, ports, the CA path), each change checked to find its text, so that
 * a shipped file that changed shape fails the test here rather than later.
 */
final class ShippedExamples {

    static final Path DIR = Path.of("..", "examples", "apisix");

    private ShippedExamples() {
    }

    static String read(String file) {
        try {
            return Files.readString(DIR.resolve(file));
        } catch (IOException e) {
            throw new IllegalStateException("cannot read the shipped " + DIR.resolve(file) + ": " + e.getMessage(), e);
        }
    }

    /** The shipped config.yaml trusting {@code caPem} for the providers, APISIX on 127.0.0.1:{@code port}. */
    static String config(Path caPem, int port) {
        return replace(read("config.yaml"), "/etc/ssl/certs/ca-certificates.crt", caPem.toString())
                + "\napisix:\n  node_listen:\n    - ip: 127.0.0.1\n      port: " + port + "\n";
    }

    /**
     * The shipped apisix.yaml with the providers' and the economy service's addresses, the engine
     * config path and the settle port of the test; plus two routes of RealApisixIT's own: the OpenAI
     * route over plain HTTP, and the same https upstream without any plugin (to compare streams).
     */
    static String routes(Path engineConfig, int settlePort, int providerPort, int economyPort, int plainPort) {
        String shipped = read("apisix.yaml");
        String r = replace(shipped, "\"api.openai.com:443\"", "\"127.0.0.1:" + providerPort + "\"");
        r = replace(r, "\"api.anthropic.com:443\"", "\"127.0.0.1:" + providerPort + "\"");
        r = replace(r, "\"llm-economy.internal:443\"", "\"127.0.0.1:" + economyPort + "\"");
        r = replace(r, "/etc/tokenbudget/tokenbudget.yaml", engineConfig.toString());
        r = replace(r, "127.0.0.1:9181", "127.0.0.1:" + settlePort);
        r = replace(r, "#END\n", "");

        String openai = r.substring(r.indexOf("  - id: openai-budgeted"), r.indexOf("  - id: anthropic-budgeted"));
        String plainRoute = replace(openai, "id: openai-budgeted", "id: openai-plain-http");
        plainRoute = replace(plainRoute, "    uri: /v1/*\n", "    uri: /v1/*\n    priority: 10\n"
                + "    vars: [[\"http_x_test_upstream\", \"==\", \"plain\"]]\n");
        plainRoute = replace(plainRoute, "scheme: https", "scheme: http");
        plainRoute = replace(plainRoute, "\"127.0.0.1:" + providerPort + "\"", "\"127.0.0.1:" + plainPort
                + "\"");
        String bare = "  - id: openai-without-plugins\n    uri: /v1/*\n    priority: 10\n"
                + "    vars: [[\"http_x_test_route\", \"==\", \"bare\"]]\n"
                + openai.substring(openai.indexOf("    upstream:\n"));
        return r.stripTrailing() + "\n\n" + plainRoute + bare + "#END\n";
    }

    /** Replaces text that must be there. */
    static String replace(String in, String what, String with) {
        assertThat(in).as("the shipped file holds " + what).contains(what);
        return in.replace(what, with);
    }
}
