package io.multiproc4j.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import io.multiproc4j.Pool;
import io.multiproc4j.PoolStats;
import io.multiproc4j.WorkerOutput;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/**
 * Regression tests of the engine review's defects (ENGINE-REVIEW.md), each against real worker JVMs.
 */
@Deadline(seconds = 180)
class EngineReviewFixesTest {
    private static List<Integer> range(int n) {
        return IntStream.range(0, n).boxed().toList();
    }

    private static Pool pool() {
        return Pool.builder().processes(2).retries(0).workerOutput(WorkerOutput.DISCARD).build();
    }

    @Test
    void aTaskThatLeavesItsInterruptFlagSet_returnsItsResult_andNoWorkerExits() throws Exception {
        List<Integer> inputs = range(40);
        List<Integer> expected = inputs.stream().map(x -> x + 1).toList();
        try (Pool pool = pool()) {
            // chunks of 1 and of several: the flag must neither reach the socket nor the next task
            for (int chunkSize : new int[] {1, 7}) {
                List<Integer> results = pool.map((Integer x) -> {
                    Thread.currentThread().interrupt();
                    return x + 1;
                }, inputs, chunkSize);
                assertThat(results).isEqualTo(expected);
            }
            // the next task in a worker sees a clear flag
            List<Boolean> flags = pool.map((Integer x) -> {
                boolean wasSet = Thread.currentThread().isInterrupted();
                Thread.currentThread().interrupt();
                return wasSet;
            }, inputs, 5);
            assertThat(flags).containsOnly(false);
            List<CompletableFuture<Integer>> futures = new ArrayList<>();
            for (int x : inputs) {
                futures.add(pool.applyAsync((Integer y) -> {
                    Thread.currentThread().interrupt();
                    return y + 1;
                }, x));
            }
            List<Integer> async = new ArrayList<>();
            for (CompletableFuture<Integer> future : futures) {
                async.add(future.get(150, TimeUnit.SECONDS));
            }
            assertThat(async).isEqualTo(expected);
            PoolStats stats = pool.stats();
            assertThat(stats.workersExitedTotal()).as("workers exited: %s", stats.workersExited()).isZero();
            assertThat(stats.workersStarted()).isLessThanOrEqualTo(2);
        }
    }
}
