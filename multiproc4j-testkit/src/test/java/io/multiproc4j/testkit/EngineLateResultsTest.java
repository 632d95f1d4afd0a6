package io.multiproc4j.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import io.multiproc4j.Pool;
import io.multiproc4j.PoolStats;
import io.multiproc4j.SerializableFunction;
import io.multiproc4j.TaskTimeoutException;
import io.multiproc4j.WorkerOutput;
import io.multiproc4j.internal.engine.ProcessEngine;
import io.multiproc4j.spi.Batch;
import io.multiproc4j.spi.Codec;
import java.io.IOException;
import java.io.ObjectInputStream;
import java.io.Serial;
import java.io.Serializable;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
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
 *       get the next batch blamed: that one runs again;</li>
 *   <li>a retry decided while the dead worker's reader is still delivering part of the batch waits
 *       until that delivery is done, so the batch sees its results in order, one delivery at a time.</li>
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

    /**
     * The test's side of {@link HeldInDecode}: the first decode waits (until released, or, with
     * {@link #untilTheWorkerDies}, until the worker that sent it has exited); later ones go through.
     */
    static final class Hold {
        final CountDownLatch reached = new CountDownLatch(1);
        final CountDownLatch release = new CountDownLatch(1);
        volatile Thread reader;
        volatile long workerPid;
        /**
         * The reader goes on the moment the worker's process is gone: the result reaches the engine
         * while supervision waits for this reader (its bounded wait starts when it sees the exit).
         */
        volatile boolean untilTheWorkerDies;

        void holdReader(HeldInDecode value) {
            if (reached.getCount() == 0) {
                return;
            }
            workerPid = value.workerPid;
            reader = Thread.currentThread();
            reached.countDown();
            try {
                if (untilTheWorkerDies) {
                    var worker = ProcessHandle.of(value.workerPid);
                    if (worker.isPresent()) {
                        worker.get().onExit().get(WAIT.toSeconds(), TimeUnit.SECONDS);
                    }
                } else if (!release.await(WAIT.toSeconds(), TimeUnit.SECONDS)) {
                    throw new IllegalStateException("the test never released the reader");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (ExecutionException | java.util.concurrent.TimeoutException e) {
                throw new IllegalStateException("worker " + value.workerPid + " was not killed for the timeout", e);
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
        hold.untilTheWorkerDies = true;
        // retries(0): a batch blamed for the kill would fail with WorkerCrashedException
        try (Pool pool = Pool.builder().processes(1).retries(0).taskTimeout(Duration.ofSeconds(10))
                .workerOutput(WorkerOutput.DISCARD).build()) {
            // warm: the worker is up and has loaded the result's class, so the first task below
            // finishes well within the timeout however loaded the machine is
            assertThat(pool.applyAsync((Integer x) -> new HeldInDecode(x).toString(), 0).get(WAIT.toSeconds(), TimeUnit.SECONDS))
                    .isEqualTo("HeldInDecode[0]");
            // The first finishes at once in the worker, but the pool's reader holds its result: to
            // the engine it runs past the timeout, and its worker (now running the next) is killed.
            // The reader goes on the moment that worker is gone, so the result arrives while
            // supervision waits for the reader: the batch has finished when the exit is handled.
            CompletableFuture<Object> timedOut = pool.applyAsync(quick, 0);
            CompletableFuture<Object> behind = pool.applyAsync(next, 1);
            hold.awaitReached();
            long pid = hold.workerPid;
            Conditions.await("worker " + pid + " killed for the timeout", WAIT, () -> !Conditions.alive(pid));
            gate.open();
            boolean exitCameFirst = false;
            try {
                Object result = timedOut.get(WAIT.toSeconds(), TimeUnit.SECONDS);
                assertThat(result).isInstanceOf(HeldInDecode.class); // it had finished: its result counts
            } catch (ExecutionException e) {
                // the reader stalled past supervision's 2 s wait: the exit came first, and blames it
                assertThat(e.getCause()).isInstanceOf(TaskTimeoutException.class);
                exitCameFirst = true;
            }
            try {
                assertThat(behind.get(WAIT.toSeconds(), TimeUnit.SECONDS)).isEqualTo("next");
            } catch (ExecutionException e) {
                fail("the batch behind the timed-out one was blamed for the kill", e.getCause());
            }
            PoolStats stats = pool.stats();
            assertThat(stats.workersExited()).as("one kill, for the timeout")
                    .containsExactlyEntriesOf(java.util.Map.of("TASK_TIMEOUT", 1L));
            // Not a pass when the path this test pins was not taken: reported as not run, with why.
            assumeFalse(exitCameFirst, "the pool's reader stalled for longer than supervision waits for it (2 s): "
                    + "the exit was handled before the timed-out batch's result, so the next batch was never at risk");
            assertThat(stats.tasksFailed()).as("nothing failed: the timed-out batch had finished").isZero();
            assertThat(stats.retried()).as("the next batch ran again without an attempt counted").isZero();
            assertThat(stats.workersStarted()).as("the next batch ran again on the replacement").isEqualTo(2);
        }
    }

    private static final AtomicLong FUNCTION_IDS = new AtomicLong(1L << 42);

    /**
     * A batch straight to the engine that records its deliveries, in order, and whether one began
     * while another was under way; its first delivery can be held until the test releases it.
     */
    private static final class RecordingBatch implements Batch {
        final List<String> deliveries = new CopyOnWriteArrayList<>();
        final CompletableFuture<List<String>> outcome = new CompletableFuture<>();
        final CountDownLatch firstReached = new CountDownLatch(1);
        final CountDownLatch releaseFirst = new CountDownLatch(1);
        final AtomicBoolean overlapped = new AtomicBoolean();
        private final AtomicBoolean delivering = new AtomicBoolean();
        private final SerializableFunction<Object, Object> function;
        private final long functionId = FUNCTION_IDS.incrementAndGet();
        private final List<Object> inputs;
        private final boolean holdFirst;
        private int delivered;

        RecordingBatch(SerializableFunction<Object, Object> function, List<Object> inputs, boolean holdFirst) {
            this.function = function;
            this.inputs = inputs;
            this.holdFirst = holdFirst;
        }

        @Override
        public SerializableFunction<Object, Object> function() {
            return function;
        }

        @Override
        public long functionId() {
            return functionId;
        }

        @Override
        public List<Object> inputs() {
            return new ArrayList<>(inputs);
        }

        @Override
        public long firstIndex() {
            return 0;
        }

        @Override
        public boolean isCancelled() {
            return false;
        }

        @Override
        public void deliver(int offset, List<?> results) {
            if (!delivering.compareAndSet(false, true)) {
                overlapped.set(true);
            }
            deliveries.add(offset + ":" + results);
            if (holdFirst && firstReached.getCount() > 0) {
                firstReached.countDown();
                try {
                    releaseFirst.await(WAIT.toSeconds(), TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            delivering.set(false);
            delivered += results.size();
            if (delivered >= inputs.size()) {
                outcome.complete(List.copyOf(deliveries));
            }
        }

        @Override
        public void fail(int offset, RuntimeException failure) {
            outcome.completeExceptionally(failure);
        }
    }

    @Test
    void aRetryWaitsForTheDeadWorkersDeliveryUnderWay_soItsBatchSeesResultsInOrder(@TempDir Path dir) throws Exception {
        Gate gate = Gate.in(dir);
        // Input 1 kills the first worker after input 0's result has been sent (a task timeout makes
        // results stream one by one); on the replacement it returns.
        SerializableFunction<Object, Object> dieAtOne = x -> {
            if ((Integer) x == 1 && !gate.marked("died")) {
                gate.mark("died");
                Runtime.getRuntime().halt(3);
            }
            return x;
        };
        ProcessEngine engine = ProcessEngine.start(new ProcessEngine.Options(1, 0, 0, Duration.ofMinutes(10), 1, null,
                List.of(), WorkerOutput.DISCARD, Duration.ofSeconds(60), Codec.standard(), false, 2, null, false));
        try {
            var held = new RecordingBatch(dieAtOne, List.of(0, 1), true);
            engine.execute(held);
            assertThat(held.firstReached.await(WAIT.toSeconds(), TimeUnit.SECONDS)).as("input 0 delivered").isTrue();
            // Delivering input 0's result outlasts supervision's wait: the exit retries input 1.
            Conditions.await("the first worker's exit handled", WAIT,
                    () -> engine.stats().workersExited().containsKey("CRASHED"));
            // The replacement runs other work meanwhile; the retry, first in the queue, waits.
            var other = new RecordingBatch(x -> "other", List.of(7), false);
            engine.execute(other);
            assertThat(other.outcome.get(WAIT.toSeconds(), TimeUnit.SECONDS)).containsExactly("0:[other]");
            assertThat(held.deliveries).as("the retry is not delivered while input 0's delivery is under way")
                    .containsExactly("0:[0]");
            held.releaseFirst.countDown();
            assertThat(held.outcome.get(WAIT.toSeconds(), TimeUnit.SECONDS)).containsExactly("0:[0]", "1:[1]");
            assertThat(held.overlapped).as("no delivery began while another was under way").isFalse();
            assertThat(engine.stats().workersExited()).containsExactlyEntriesOf(java.util.Map.of("CRASHED", 1L));
            engine.shutdown();
            assertThat(engine.awaitTermination(WAIT)).isTrue();
        } finally {
            engine.shutdownNow();
        }
    }
}
