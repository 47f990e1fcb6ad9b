package dev.tokenbudget.console.admin;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Ends a process a test started together with everything it started (a browser's renderers, a
 * script's JVM). The tree is read before the parent goes: after that its children are reparented
 * and out of reach.
 */
public final class ProcessTree {

    private ProcessTree() {
    }

    /**
     * Asks {@code p} to stop (SIGTERM), waits up to {@code grace} for it, then kills whatever of its
     * tree is left; whether it stopped by itself.
     */
    public static boolean stop(Process p, Duration grace) throws InterruptedException {
        List<ProcessHandle> tree = tree(p);
        p.destroy();
        boolean stopped = p.waitFor(grace.toMillis(), TimeUnit.MILLISECONDS);
        kill(tree);
        return stopped;
    }

    /** Kills {@code p} and its descendants and waits up to 10 s for each to be gone. */
    public static void destroy(Process p) {
        kill(tree(p));
    }

    private static List<ProcessHandle> tree(Process p) {
        List<ProcessHandle> tree = new ArrayList<>(p.descendants().toList());
        tree.add(p.toHandle());
        return tree;
    }

    private static void kill(List<ProcessHandle> tree) {
        tree.forEach(ProcessHandle::destroyForcibly);
        for (ProcessHandle h : tree) {
            h.onExit().completeOnTimeout(h, 10, TimeUnit.SECONDS).join();
        }
    }
}
