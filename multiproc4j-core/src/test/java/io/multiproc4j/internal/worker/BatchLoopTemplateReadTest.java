package io.multiproc4j.internal.worker;

import static org.assertj.core.api.Assertions.assertThat;

import io.multiproc4j.Pool;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A new worker's first batch reads {@link BatchLoop}'s template from where the class came from, not
 * with a class path resource lookup (which opens every jar before this library's): on a real
 * worker, the loop is made and runs, and no URL connection (what a class loader's resource stream
 * is opened through) is set up on the way.
 */
public class BatchLoopTemplateReadTest {
    /** Initialized by the task when it runs: its line in the log comes after the batch loop's. */
    public static final class RanTask {
        public static final int ONE = Integer.parseInt("1"); // not a constant: reading it initializes the class

        private RanTask() {}
    }

    @Test
    void aWorkersFirstBatch_makesItsLoop_withoutAClassPathResourceLookup(@TempDir Path dir) throws Exception {
        Path log = dir.resolve("class-init.log");
        try (Pool pool = Pool.builder().processes(1).jvmOptions("-Xlog:class+init=info:file=" + log).build()) {
            assertThat(pool.map((Integer x) -> x + RanTask.ONE, List.of(1, 2, 3))).containsExactly(2, 3, 4);
            String text = waitForLine(log, "Initializing '" + RanTask.class.getName().replace('.', '/') + "'");
            assertThat(text).contains("Initializing 'io/multiproc4j/internal/worker/BatchLoop'")
                    .contains("Initializing 'io/multiproc4j/internal/worker/BatchLoopTemplate")
                    .doesNotContain("Initializing 'java/net/URLConnection'");
        }
    }

    /** @return the log's text once it holds the line (the JVM writes it as it goes) */
    private static String waitForLine(Path log, String line) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (true) {
            String text = Files.exists(log) ? Files.readString(log) : "";
            if (text.contains(line)) {
                return text;
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("no \"" + line + "\" in " + log + " after 120 s:\n" + text);
            }
            Thread.sleep(50); // polling a file for a condition with a deadline, not a timing
        }
    }
}
