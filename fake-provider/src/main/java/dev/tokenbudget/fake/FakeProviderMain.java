package dev.tokenbudget.fake;

import java.util.concurrent.CountDownLatch;

/**
 * Runs the fake provider on its own: {@code java -jar fake-provider.jar [PORT]} (default 8090),
 * until the process is stopped.
 */
public final class FakeProviderMain {

    private FakeProviderMain() {
    }

    public static void main(String[] args) throws InterruptedException {
        int port = 8090;
        if (args.length > 0) {
            try {
                port = Integer.parseInt(args[0]);
            } catch (NumberFormatException e) {
                System.err.println("usage: fake-provider [PORT]  (PORT must be a number, was '" + args[0] + "')");
                System.exit(2);
            }
        }
        FakeProvider fake = FakeProvider.start(port);
        Runtime.getRuntime().addShutdownHook(new Thread(fake::close, "fake-provider-stop"));
        System.out.println("fake LLM provider on " + fake.baseUrl()
                + " (POST /v1/chat/completions, /v1/responses, /v1/messages)");
        new CountDownLatch(1).await();
    }
}
