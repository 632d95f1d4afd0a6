package io.multiproc4j.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.multiproc4j.Pool;
import io.multiproc4j.PoolStats;
import io.multiproc4j.ProcessPoolExecutor;
import io.multiproc4j.SerializableCallable;
import io.multiproc4j.SerializableFunction;
import io.multiproc4j.TaskExecutor;
import io.multiproc4j.TaskFailedException;
import io.multiproc4j.WorkerOutput;
import io.multiproc4j.internal.engine.ProcessEngine;
import io.multiproc4j.spi.Codec;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/**
 * Regression tests of the engine review's defects, each against real worker JVMs: a task that leaves
 * its interrupt flag set (through map, applyAsync and the executor) kills no worker; a function that
 * cannot be encoded fails its batch instead of leaving it held for ever.
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

    @Test
    void executorTasksThatLeaveTheirInterruptFlagSet_fromAnInterruptedCaller_killNoWorker() throws Exception {
        try (TaskExecutor executor = ProcessPoolExecutor.create(1)) {
            Set<Long> pids = new HashSet<>();
            for (int i = 0; i < 10; i++) {
                Thread.currentThread().interrupt(); // the caller's own flag must not reach the worker's socket
                CompletableFuture<Long> pid;
                try {
                    pid = executor.submit((SerializableCallable<Long>) () -> {
                        Thread.currentThread().interrupt();
                        return ProcessHandle.current().pid();
                    });
                } finally {
                    Thread.interrupted();
                }
                pids.add(pid.get(60, TimeUnit.SECONDS));
            }
            assertThat(pids).as("one worker ran them all: none died").hasSize(1);
        }
    }

    @Test
    void aFunctionThatCannotBeEncoded_failsItsBatch_andTheEngineGoesOnAndTerminates() throws Exception {
        ProcessEngine engine = ProcessEngine.start(new ProcessEngine.Options(1, 0, 0, null, 0, null, List.of(),
                WorkerOutput.PREFIXED, Duration.ofSeconds(60), Codec.standard(), false, 2, null, false));
        try {
            Object notSerializable = new Object();
            var bad = new OneInputBatch(x -> notSerializable.hashCode(), 1);
            engine.execute(bad);
            assertThatThrownBy(() -> bad.outcome.get(60, TimeUnit.SECONDS))
                    .isInstanceOf(ExecutionException.class)
                    .cause().isInstanceOf(TaskFailedException.class)
                    .hasMessageContaining("the function cannot be sent to worker JVMs");
            var good = new OneInputBatch(x -> (Integer) x + 1, 1);
            engine.execute(good);
            assertThat(good.outcome.get(60, TimeUnit.SECONDS)).isEqualTo(2);
            engine.shutdown();
            assertThat(engine.awaitTermination(Duration.ofSeconds(60))).as("the engine terminates").isTrue();
        } finally {
            engine.shutdownNow();
        }
    }

    /**
     * Whether another thread can take the engine's lock now (it reads the run state): a callback
     * that runs under the lock would hold it, and a callback that waited for the engine would deadlock.
     */
    private static boolean lockIsFree(ProcessEngine engine) {
        var read = new CompletableFuture<ProcessEngine.RunState>();
        Thread.ofPlatform().daemon().start(() -> read.complete(engine.runState()));
        try {
            read.get(30, TimeUnit.SECONDS);
            return true;
        } catch (java.util.concurrent.TimeoutException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        } catch (ExecutionException e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    void failureCallbacks_ofAWorkerThatCannotBeSpawned_andOfABrokenEngine_runWithoutTheEngineLock() throws Exception {
        // A NUL in a JVM option: the OS cannot start the JVM, so spawning throws, and the engine breaks.
        ProcessEngine engine = ProcessEngine.start(new ProcessEngine.Options(1, 0, 0, null, 0, null,
                List.of("-Dmultiproc4j.test=a\0b"), WorkerOutput.DISCARD, Duration.ofSeconds(60), Codec.standard(),
                true, 1, null, false));
        try {
            var first = new OneInputBatch(x -> x, 1); // on demand: it spawns the worker, which fails
            CompletableFuture<Boolean> freeInFirst = first.outcome.handle((r, e) -> lockIsFree(engine));
            engine.execute(first);
            assertThatThrownBy(() -> first.outcome.get(60, TimeUnit.SECONDS))
                    .cause().isInstanceOf(io.multiproc4j.BrokenPoolException.class)
                    .hasMessageContaining("cannot start worker JVMs");
            assertThat(freeInFirst.get(60, TimeUnit.SECONDS)).as("the spawn failure's callback ran without the lock").isTrue();

            var late = new OneInputBatch(x -> x, 2); // the engine is broken: it fails at once
            CompletableFuture<Boolean> freeInLate = late.outcome.handle((r, e) -> lockIsFree(engine));
            engine.execute(late);
            assertThatThrownBy(() -> late.outcome.get(60, TimeUnit.SECONDS))
                    .cause().isInstanceOf(io.multiproc4j.BrokenPoolException.class);
            assertThat(freeInLate.get(60, TimeUnit.SECONDS)).as("a broken engine's callback ran without the lock").isTrue();
            assertThat(engine.awaitTermination(Duration.ofSeconds(60))).isTrue();
        } finally {
            engine.shutdownNow();
        }
    }

    @Test
    void aFailureCallbackThatThrows_isReported_notThrownToTheCallerOfShutdownNow_andTheBatchBehindStillEnds(
            @org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        Gate gate = Gate.in(dir);
        ProcessEngine engine = ProcessEngine.start(new ProcessEngine.Options(1, 0, 0, null, 0, null, List.of(),
                WorkerOutput.DISCARD, Duration.ofSeconds(60), Codec.standard(), false, 2, null, false));
        try {
            var throwing = new OneInputBatch(x -> {
                gate.mark("started");
                gate.awaitOpen();
                return x;
            }, 1) {
                @Override
                public void fail(int offset, RuntimeException failure) {
                    super.fail(offset, failure);
                    throw new IllegalStateException("this batch's failure callback throws");
                }
            };
            engine.execute(throwing);
            var behind = new OneInputBatch(x -> x, 2); // prefetched behind it on the one worker
            engine.execute(behind);
            Conditions.await("the first batch runs on the worker", Duration.ofSeconds(120), () -> gate.marked("started"));
            // its failure callback throws: the engine reports that, and shutdownNow's caller is not hit by it
            List<io.multiproc4j.spi.Batch> neverStarted = engine.shutdownNow();
            assertThatThrownBy(() -> throwing.outcome.get(60, TimeUnit.SECONDS))
                    .cause().isInstanceOf(java.util.concurrent.CancellationException.class);
            if (!neverStarted.contains(behind)) {
                assertThatThrownBy(() -> behind.outcome.get(60, TimeUnit.SECONDS)).as("the batch behind it ends too")
                        .cause().isInstanceOf(java.util.concurrent.CancellationException.class);
            }
            assertThat(engine.awaitTermination(Duration.ofSeconds(60))).as("the engine terminates").isTrue();
        } finally {
            gate.open();
            engine.shutdownNow();
        }
    }

    @Test
    void aWorkerPastItsMemoryLimit_whoseExitHangsInAShutdownHook_isKilled_andWhatItHeldRunsElsewhere() throws Exception {
        // 1 byte: every worker is past its limit after each batch, says RETIRING and exits by itself.
        // The first task's hook never ends, so that exit hangs while the worker holds the batches
        // prefetched behind it; they are requeued only once it is gone (killed after the grace period).
        try (Pool pool = Pool.builder().processes(1).maxMemoryPerChild(1).workerOutput(WorkerOutput.DISCARD).build()) {
            CompletableFuture<List<Long>> pids = CompletableFuture.supplyAsync(() -> pool.map((Integer x) -> {
                if (x == 0) {
                    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                        while (true) {
                            try {
                                Thread.sleep(60_000);
                            } catch (InterruptedException e) {
                                // a hook that will not end
                            }
                        }
                    }));
                }
                return ProcessHandle.current().pid();
            }, range(3), 1));
            List<Long> ran = pids.get(120, TimeUnit.SECONDS);
            assertThat(ran).hasSize(3);
            assertThat(ran.get(1)).as("the batches behind the first ran on another worker").isNotEqualTo(ran.get(0));
            assertThat(Conditions.alive(ran.get(0))).as("the worker whose exit hung is gone").isFalse();
        }
    }
}
