package io.multiproc4j.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import io.multiproc4j.Pool;
import io.multiproc4j.PoolStats;
import io.multiproc4j.SerializableFunction;
import io.multiproc4j.TaskTimeoutException;
import io.multiproc4j.WorkerOutput;
import java.io.IOException;
import java.io.ObjectInputStream;
import java.io.Serial;
import java.io.Serializable;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The pool's reader of a worker decodes results outside the engine's lock, and supervision waits
 * only a bounded time for it when the worker dies: results a dead worker sent can be read after
 * its exit was handled. Real worker JVMs; the pool's reader is held in a result's
 * {@code readObject} (in this JVM), so each race is walked step by step, without sleeps:
 * <ul>
 *   <li>results of a send whose worker's exit already retried the batch are dropped: the retry's own
 *       results are the batch's, and the worker running it is not harmed;</li>
 *   <li>a worker killed for the timeout of a batch that finished before the exit was seen does not
 *       get the next batch blamed: that one runs again.</li>
 * </ul>
 */
@Deadline(seconds = 240)
class EngineLateResultsTest {
    private static final Duration WAIT = Duration.ofSeconds(120);

    /**
     * A result whose decoding in the pool's JVM waits until the test releases it: it holds the
     * reader thread of the worker that sent it. Never decoded in a worker (workers only encode results).
     */
    static final class HeldInDecode implements Serializable {
        @Serial
        private static final long serialVersionUID = 1L;
        /** Armed by each test in this JVM; null in worker JVMs. */
        static volatile Hold hold;
        final long workerPid;

        HeldInDecode(long workerPid) {
            this.workerPid = workerPid;
        }

        @Serial
        private void readObject(ObjectInputStream in) throws IOException, ClassNotFoundException {
            in.defaultReadObject();
            Hold h = hold;
            if (h != null) {
                h.holdReader(this);
            }
        }

        @Override
        public String toString() {
            return "HeldInDecode[" + workerPid + "]";
        }
    }

    /** The test's side of {@link HeldInDecode}: the first decode waits; later ones go through. */
    static final class Hold {
        final CountDownLatch reached = new CountDownLatch(1);
        final CountDownLatch release = new CountDownLatch(1);
        volatile Thread reader;
        volatile long workerPid;

        void holdReader(HeldInDecode value) {
            if (reached.getCount() == 0) {
                return;
            }
            workerPid = value.workerPid;
            reader = Thread.currentThread();
            reached.countDown();
            try {
                if (!release.await(WAIT.toSeconds(), TimeUnit.SECONDS)) {
                    throw new IllegalStateException("the test never released the reader");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        void awaitReached() throws InterruptedException {
            assertThat(reached.await(WAIT.toSeconds(), TimeUnit.SECONDS)).as("the pool's reader decodes the held result").isTrue();
        }
    }

    private Hold hold;

    @BeforeEach
    void arm() {
        hold = new Hold();
        HeldInDecode.hold = hold;
    }

    @AfterEach
    void disarm() {
        hold.release.countDown();
        HeldInDecode.hold = null;
    }

    @Test
    void resultsADeadWorkerSentBeforeItsExitRetriedTheBatch_areDropped_andTheRetryDeliversItsOwn(@TempDir Path dir)
            throws Exception {
        Gate gate = Gate.in(dir);
        // First attempt: task 0 returns a result that holds the reader; task 1 kills its worker.
        // Second attempt (on the replacement): task 0 says so and waits at the gate; task 1 returns.
        SerializableFunction<Integer, Object> task = x -> {
            if (!gate.marked("died")) {
                if (x == 0) {
                    return new HeldInDecode(ProcessHandle.current().pid());
                }
                gate.mark("died");
                Runtime.getRuntime().halt(3);
            }
            if (x == 0) {
                gate.mark("retry-started");
                gate.awaitOpen();
                return "retried";
            }
            return "one";
        };
        try (Pool pool = Pool.builder().processes(1).retries(1).workerOutput(WorkerOutput.DISCARD).build()) {
            CompletableFuture<Object> first = pool.applyAsync(task, 0);
            CompletableFuture<Object> second = pool.applyAsync(task, 1);
            hold.awaitReached(); // the reader holds task 0's result, undelivered
            // Supervision's wait for that reader ends; the exit retries task 0 on a new worker.
            Conditions.await("task 0 retried on the replacement worker", WAIT, () -> gate.marked("retry-started"));
            hold.release.countDown(); // the dead worker's result reaches the engine now: stale
            hold.reader.join(WAIT.toMillis());
            assertThat(hold.reader.isAlive()).as("the dead worker's reader finished").isFalse();
            gate.open(); // only now does the retry send its results
            assertThat(first.get(WAIT.toSeconds(), TimeUnit.SECONDS)).isEqualTo("retried");
            assertThat(second.get(WAIT.toSeconds(), TimeUnit.SECONDS)).isEqualTo("one");
            PoolStats stats = pool.stats();
            assertThat(stats.workersExited()).as("only the worker that halted exited: the retry's worker lives")
                    .containsExactlyEntriesOf(java.util.Map.of("CRASHED", 1L));
            assertThat(stats.workersStarted()).isEqualTo(2);
        }
    }

    @Test
    void aWorkerKilledForATimeoutAfterThatBatchFinished_doesNotBlameTheNextBatch_whichRunsAgain(@TempDir Path dir)
            throws Exception {
        Gate gate = Gate.in(dir);
        SerializableFunction<Integer, Object> quick = x -> new HeldInDecode(ProcessHandle.current().pid());
        SerializableFunction<Integer, Object> next = x -> {
            gate.awaitOpen();
            return "next";
        };
        // retries(0): a batch blamed for the kill would fail with WorkerCrashedException
        try (Pool pool = Pool.builder().processes(1).retries(0).taskTimeout(Duration.ofSeconds(8))
                .workerOutput(WorkerOutput.DISCARD).build()) {
            // The first finishes at once in the worker, but the pool's reader holds its result: to
            // the engine it runs past the timeout, and its worker (now running the next) is killed.
            CompletableFuture<Object> timedOut = pool.applyAsync(quick, 0);
            CompletableFuture<Object> behind = pool.applyAsync(next, 1);
            hold.awaitReached();
            long pid = hold.workerPid;
            Conditions.await("worker " + pid + " killed for the timeout", WAIT, () -> !Conditions.alive(pid));
            gate.open();
            hold.release.countDown(); // its result is read now: normally before supervision reports the exit
            try {
                Object result = timedOut.get(WAIT.toSeconds(), TimeUnit.SECONDS);
                assertThat(result).isInstanceOf(HeldInDecode.class); // it had finished: its result counts
            } catch (ExecutionException e) {
                // the reader was slower than supervision's wait: the exit came first, and blames it
                assertThat(e.getCause()).isInstanceOf(TaskTimeoutException.class);
            }
            try {
                assertThat(behind.get(WAIT.toSeconds(), TimeUnit.SECONDS)).isEqualTo("next");
            } catch (ExecutionException e) {
                fail("the batch behind the timed-out one was blamed for the kill", e.getCause());
            }
            PoolStats stats = pool.stats();
            assertThat(stats.workersExited()).as("one kill, for the timeout")
                    .containsExactlyEntriesOf(java.util.Map.of("TASK_TIMEOUT", 1L));
        }
    }
}
