package dev.tokenbudget.fake;

import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;

/**
 * Runs the fake provider on its own until the process is stopped:
 * <pre>
 *   java -cp ... dev.tokenbudget.fake.FakeProviderMain [PORT] [--tls CERT.pem KEY.pem] [--model-header NAME]
 *       [--reply-tokens N]
 * </pre>
 * {@code PORT} defaults to 8090 (0: any free one; the URL printed says which); {@code --tls} speaks
 * https with that certificate; {@code --model-header} answers with the model a request names in
 * that header, when it names one, as an economy service honouring a gateway's degraded model would;
 * {@code --reply-tokens} sets how long the model answers when the request's ceiling allows (48).
 */
public final class FakeProviderMain {

    private static final String USAGE = "usage: fake-provider [PORT] [--tls CERT.pem KEY.pem] [--model-header NAME] "
            + "[--reply-tokens N]";

    private FakeProviderMain() {
    }

    public static void main(String[] args) throws InterruptedException {
        int port = 8090;
        Path cert = null;
        Path key = null;
        String modelHeader = null;
        int replyTokens = FakeProvider.DEFAULT_REPLY_TOKENS;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--tls" -> {
                    if (i + 2 >= args.length) {
                        fail("--tls needs a certificate and a key file");
                    }
                    cert = Path.of(args[++i]);
                    key = Path.of(args[++i]);
                }
                case "--model-header" -> {
                    if (i + 1 >= args.length) {
                        fail("--model-header needs a header name");
                    }
                    modelHeader = args[++i];
                }
                case "--reply-tokens" -> replyTokens = number(args, ++i, "--reply-tokens");
                default -> port = number(args, i, "PORT");
            }
        }
        FakeProvider fake;
        try {
            fake = FakeProvider.start(port, cert == null ? null : PemTls.serverContext(cert, key));
        } catch (IllegalArgumentException e) {
            fail(e.getMessage());
            return;
        }
        fake.serveModelFrom(modelHeader);
        try {
            fake.replyTokens(replyTokens);
        } catch (IllegalArgumentException e) {
            fail(e.getMessage());
        }
        Runtime.getRuntime().addShutdownHook(new Thread(fake::close, "fake-provider-stop"));
        System.out.println("fake LLM provider on " + fake.baseUrl()
                + " (POST /v1/chat/completions, /v1/responses, /v1/messages)");
        new CountDownLatch(1).await();
    }

    private static int number(String[] args, int i, String what) {
        if (i >= args.length) {
            fail(what + " needs a number");
        }
        try {
            return Integer.parseInt(args[i]);
        } catch (NumberFormatException e) {
            fail(what + " must be a number, was '" + args[i] + "'");
            return -1;
        }
    }

    private static void fail(String message) {
        System.err.println(USAGE + "\n" + message);
        System.exit(2);
    }
}
