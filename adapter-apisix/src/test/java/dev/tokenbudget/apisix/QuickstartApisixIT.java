package dev.tokenbudget.apisix;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tokenbudget.testing.Poll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code bin/quickstart --gateway apisix} as a user runs it (on free ports): the README's requests
 * with the demo keys through the real APISIX, the admin API with the printed token, and a stop
 * (SIGTERM, as Ctrl-C's cleanup) that leaves nothing listening.
 */
class QuickstartApisixIT {

    private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void theDemoRunsBehindARealApisixAndStopsCompletely() throws Exception {
        Path kit = ApisixKit.locate();
        Path work = ROOT.resolve("adapter-apisix/target/quickstart");
        Files.createDirectories(work);
        // the fake provider's classpath, which the script otherwise asks Maven for
        Files.writeString(work.resolve("fake.classpath"), System.getProperty("java.class.path"));
        int port = freePort();
        int admin = freePort();
        Path out = work.resolve("it-stdout.log");
        ProcessBuilder pb = new ProcessBuilder("bash", "bin/quickstart", "--gateway", "apisix").directory(ROOT.toFile())
                .redirectOutput(out.toFile()).redirectError(work.resolve("it-stderr.log").toFile());
        pb.environment().put("TOKENBUDGET_APISIX_HOME", kit.toString());
        pb.environment().put("QUICKSTART_APISIX_PORT", Integer.toString(port));
        pb.environment().put("QUICKSTART_ADMIN_PORT", Integer.toString(admin));
        pb.environment().put("QUICKSTART_SETTLE_PORT", Integer.toString(freePort()));
        pb.environment().remove("TOKENBUDGET_ADMIN_TOKEN");
        Process p = pb.start();
        try {
            Poll.await("the quickstart to start", Duration.ofMinutes(5), Duration.ofMillis(200),
                    () -> !p.isAlive() || read(out).contains("is running"));
            assertThat(read(out)).as(read(work.resolve("it-stderr.log"))).contains("is running");
            String base = "http://127.0.0.1:" + port;
            Matcher token = Pattern.compile("TOKENBUDGET_ADMIN_TOKEN=([0-9a-f]+)").matcher(read(out));
            assertThat(token.find()).isTrue();

            HttpResponse<String> json = chat(base, "demo-key", false, 50);
            assertThat(json.statusCode()).isEqualTo(200);
            assertThat(json.headers().firstValue("content-type")).hasValue("application/json");
            HttpResponse<String> stream = chat(base, "demo-key", true, 50);
            assertThat(stream.headers().firstValue("content-type")).hasValueSatisfying(v ->
                    assertThat(v).startsWith("text/event-stream"));
            assertThat(stream.body()).contains("data: [DONE]");

            HttpResponse<String> r = null;
            for (int i = 0; i < 80 && (r == null || r.statusCode() == 200); i++) {
                r = chat(base, "demo-hard-stop", false, 400);
            }
            assertThat(r.statusCode()).isEqualTo(429);
            assertThat(r.headers().firstValue("retry-after")).isPresent();

            String model = "";
            for (int i = 0; i < 80 && !model.equals("gpt-4o-mini"); i++) {
                model = JSON.readTree(chat(base, "demo-degrade", false, 400).body()).path("model").asText();
            }
            assertThat(model).isEqualTo("gpt-4o-mini");

            HttpResponse<String> budgets = HTTP.send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + admin + "/v1/budgets"))
                    .header("Authorization", "Bearer " + token.group(1)).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(budgets.statusCode()).isEqualTo(200);
            assertThat(budgets.body()).contains("hard-stop");
        } finally {
            p.destroy();
            assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("the quickstart stopped").isTrue();
        }
        assertThat(listening(port)).as("APISIX stopped").isFalse();
        assertThat(listening(admin)).as("the runner stopped").isFalse();
    }

    @Test
    void aPortAlreadyInUseIsRefusedBeforeAnythingStarts() throws Exception {
        Path kit = ApisixKit.locate();
        Path work = ROOT.resolve("adapter-apisix/target/quickstart");
        Files.createDirectories(work);
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            Path err = work.resolve("it-taken-stderr.log");
            ProcessBuilder pb = new ProcessBuilder("bash", "bin/quickstart", "--gateway", "apisix")
                    .directory(ROOT.toFile()).redirectOutput(work.resolve("it-taken-stdout.log").toFile())
                    .redirectError(err.toFile());
            pb.environment().put("TOKENBUDGET_APISIX_HOME", kit.toString());
            pb.environment().put("QUICKSTART_APISIX_PORT", Integer.toString(taken.getLocalPort()));
            pb.environment().put("QUICKSTART_ADMIN_PORT", Integer.toString(freePort()));
            pb.environment().put("QUICKSTART_SETTLE_PORT", Integer.toString(freePort()));
            Process p = pb.start();
            try {
                assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("the quickstart gave up").isTrue();
            } finally {
                p.destroyForcibly();
            }
            assertThat(p.exitValue()).isEqualTo(1);
            assertThat(read(err)).contains("127.0.0.1:" + taken.getLocalPort() + " is already in use");
        }
    }

    private static HttpResponse<String> chat(String base, String key, boolean stream, int maxTokens) throws Exception {
        String body = "{\"model\":\"gpt-4o\",\"max_tokens\":" + maxTokens + (stream ? ",\"stream\":true" : "")
                + ",\"messages\":[{\"role\":\"user\",\"content\":\"Hello\"}]}";
        return HTTP.send(HttpRequest.newBuilder(URI.create(base + "/v1/chat/completions"))
                .header("Authorization", "Bearer " + key).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private static String read(Path p) {
        try {
            return Files.exists(p) ? Files.readString(p) : "";
        } catch (IOException e) {
            return "";
        }
    }

    private static boolean listening(int port) {
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }
}
