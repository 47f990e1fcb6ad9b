package dev.tokenbudget.fuzz;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A never-ending response does not make the gateway hold what it read: each of
 * {@link EndlessInput}'s scenarios feeds 128 MiB through one usage reader in a JVM with a 64 MiB
 * heap; what the reader retains afterwards is under 2 MiB, and no more than after half of it.
 */
class EndlessInputMemoryTest {

    private static final int HEAP_MB = 64;
    private static final int FED_MB = 128;

    @Test
    void neverEndingResponsesAreReadInBoundedMemory() throws IOException, InterruptedException {
        Path out = Files.createTempFile("endless-input", ".txt");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process p = new ProcessBuilder(java, "-Xmx" + HEAP_MB + "m", "-XX:+UseSerialGC",
                "-cp", System.getProperty("java.class.path"), EndlessInput.class.getName(), Integer.toString(FED_MB))
                .redirectErrorStream(true).redirectOutput(out.toFile()).start();
        boolean finished = p.waitFor(5, TimeUnit.MINUTES);
        if (!finished) {
            p.destroyForcibly();
        }
        String output = Files.readString(out);
        Files.delete(out);
        assertThat(finished).as("the feeding JVM finished: %s", output).isTrue();
        assertThat(p.exitValue()).as("the feeding JVM (heap %d MiB) ran out of nothing: %s", HEAP_MB, output).isZero();

        List<String> scenarios = new ArrayList<>();
        for (String line : output.strip().split("\n")) {
            String[] f = line.trim().split(" ");
            long fed = Long.parseLong(f[1]);
            long half = Long.parseLong(f[2]);
            long all = Long.parseLong(f[3]);
            scenarios.add(f[0]);
            assertThat(fed).as(line).isGreaterThanOrEqualTo((long) FED_MB << 20);
            assertThat(all).as("%s: retained after %d MiB vs after half", f[0], FED_MB)
                    .isLessThanOrEqualTo(half + (1 << 20)).isLessThanOrEqualTo(2 << 20);
        }
        assertThat(scenarios).containsExactlyElementsOf(EndlessInput.scenarios().keySet());
    }
}
