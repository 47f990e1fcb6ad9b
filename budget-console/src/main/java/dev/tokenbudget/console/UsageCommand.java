package dev.tokenbudget.console;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tokenbudget.provider.Family;
import dev.tokenbudget.provider.ResponseSniffer;
import dev.tokenbudget.provider.UsageReader;
import dev.tokenbudget.provider.UsageReport;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code tokenbudget usage FILE [--provider P]}: the usage a saved provider response or stream
 * reports, as one JSON object in the engine's counting convention (null where unknown).
 */
@Command(name = "usage", mixinStandardHelpOptions = true,
        description = {"Print the token usage of a saved provider response (JSON) or stream (SSE, AWS event stream) as one JSON object:",
            "{\"provider\",\"model\",\"input_tokens\",\"output_tokens\",\"cached_input_tokens\",\"reasoning_tokens\"}",
            "(null where unknown; why it is unknown goes to stderr). JSON vs SSE and the provider are detected."})
final class UsageCommand implements Callable<Integer> {

    private static final ObjectMapper JSON = new ObjectMapper();

    @Parameters(paramLabel = "FILE", description = "A saved response body or event stream.")
    private Path file;

    @Option(names = "--provider", paramLabel = "PROVIDER",
            description = "openai, anthropic, gemini or bedrock (azure and openai_compatible read as openai, vertex as "
                    + "gemini); detected when absent.")
    private String provider;

    @Spec
    private CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        Family family = null;
        if (provider != null) {
            family = family(provider);
            if (family == null) {
                err.println("--provider must be openai, anthropic, gemini, bedrock or vertex, was '" + provider + "'");
                err.flush();
                return 2;
            }
        }
        byte[] content;
        try {
            content = Files.readAllBytes(file);
        } catch (IOException e) {
            err.println("cannot read " + file + ": " + e.getMessage());
            err.flush();
            return 1;
        }
        ResponseSniffer.Sniffed s = ResponseSniffer.sniff(content, family);
        UsageReader reader = UsageReader.of(s.family(), s.endpoint(), s.contentType());
        reader.feed(content, 0, content.length);
        UsageReport r = reader.finish();

        ObjectNode o = JSON.createObjectNode();
        o.put("provider", s.family().name().toLowerCase(Locale.ROOT));
        o.put("model", r.model());
        o.put("input_tokens", r.inputTokens());
        o.put("output_tokens", r.outputTokens());
        o.put("cached_input_tokens", r.cachedInputTokens());
        o.put("reasoning_tokens", r.reasoningTokens());
        out.println(JSON.writeValueAsString(o));
        out.flush();
        if (r.error() != null) {
            err.println(file + ": the provider reported an error: " + r.error());
        }
        if (!r.known()) {
            err.println(file + ": usage unknown" + (r.note() != null ? ": " + r.note() : ": the "
                    + (s.streamed() ? "stream" : "body") + " carries no usage"));
        } else if (!r.complete()) {
            err.println(file + ": usage is partial: the " + (s.streamed() ? "stream" : "body")
                    + " ended before its final count");
        }
        err.flush();
        return 0;
    }

    private static Family family(String name) {
        return dev.tokenbudget.provider.Provider.byName(name).map(dev.tokenbudget.provider.Provider::family)
                .orElse(null);
    }
}
