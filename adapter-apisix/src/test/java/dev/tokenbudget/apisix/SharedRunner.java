package dev.tokenbudget.apisix;

/** One in-process plugin runner for the whole test JVM: starting Spring Boot once is enough. */
final class SharedRunner {

    private static InProcessRunner runner;

    private SharedRunner() {
    }

    static synchronized InProcessRunner get() {
        if (runner == null) {
            try {
                runner = InProcessRunner.start();
            } catch (Exception e) {
                throw new IllegalStateException("cannot start the in-process plugin runner", e);
            }
            InProcessRunner r = runner;
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                try {
                    r.close();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }));
        }
        return runner;
    }
}
