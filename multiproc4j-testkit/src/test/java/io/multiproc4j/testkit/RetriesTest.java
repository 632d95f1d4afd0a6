package io.multiproc4j.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.multiproc4j.Pool;
import io.multiproc4j.WorkerCrashedException;
import io.multiproc4j.WorkerOutput;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code retries}: a chunk whose worker died runs again elsewhere, up to the limit. */
@Deadline(seconds = 60)
class RetriesTest {

    @Test
    void chunkLostWithItsWorker_runsAgain_whenRetriesAllow(@TempDir Path dir) {
        String marker = dir.resolve("died-once").toString();
        try (Pool pool = Pool.builder().processes(2).retries(1).workerOutput(WorkerOutput.DISCARD).build()) {
            List<Integer> out = pool.map((Integer x) -> {
                if (x == 5 && CrashOnce.firstTime(marker)) {
                    Runtime.getRuntime().halt(1);
                }
                return x * 10;
            }, List.of(1, 2, 3, 4, 5, 6), 1);
            assertThat(out).containsExactly(10, 20, 30, 40, 50, 60);
        }
        assertThat(Files.exists(Path.of(marker))).isTrue();
    }

    @Test
    void chunkThatKeepsKillingWorkers_failsAfterTheRetries() {
        try (Pool pool = Pool.builder().processes(1).retries(2).workerOutput(WorkerOutput.DISCARD).build()) {
            assertThatThrownBy(() -> pool.map((Integer x) -> {
                Runtime.getRuntime().halt(7);
                return x;
            }, List.of(1), 1)).isInstanceOf(WorkerCrashedException.class)
                    .satisfies(e -> assertThat(((WorkerCrashedException) e).exitCode()).isEqualTo(7));
            assertThat(pool.map((Integer x) -> x + 1, List.of(1, 2))).containsExactly(2, 3);
        }
    }

    /** Crashes the first worker that gets there, and only that one (a file records it). */
    static final class CrashOnce {
        static boolean firstTime(String marker) {
            try {
                Files.createFile(Path.of(marker));
                return true;
            } catch (java.io.IOException e) {
                return false;
            }
        }
    }
}
