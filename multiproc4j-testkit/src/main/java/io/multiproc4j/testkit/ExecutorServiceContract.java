package io.multiproc4j.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.multiproc4j.SerializableCallable;
import io.multiproc4j.SerializableRunnable;
import io.multiproc4j.TaskExecutor;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletionService;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorCompletionService;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * The {@link java.util.concurrent.ExecutorService}, {@link Future} and {@link CompletionService}
 * contracts, as the JDK documents them and JSR-166's TCK checks them (written anew, not copied):
 * argument checks, bulk calls and their timeouts, the lifecycle, cancellation, interrupted callers,
 * {@code close()}. Bind an executor kind by extending this class. Tasks run anywhere (worker JVMs
 * too), so they see the test only through a {@link Gate}; nothing here sleeps or depends on timing:
 * a timeout in a test is either an upper bound that a correct executor never reaches, or the very
 * thing under test (a call that must time out because its tasks wait at a closed gate).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Deadline(seconds = 120)
public abstract class ExecutorServiceContract {
    private static final long LONG = 60;

    /** An executor of two workers shared by tests that leave it running. */
    protected TaskExecutor executor;

    /**
     * @param workers the most workers
     * @return a new executor of this kind
     */
    protected abstract TaskExecutor createExecutor(int workers);

    @BeforeAll
    void startShared() {
        executor = createExecutor(2);
    }

    @AfterAll
    void stopShared() {
        executor.shutdownNow();
    }

    static <T> Callable<T> task(SerializableCallable<T> task) {
        return task;
    }

    static Runnable runnable(SerializableRunnable task) {
        return task;
    }

    /** A task that marks {@code name} started, waits at the gate, then marks {@code name}-finished. */
    static Callable<String> gated(Gate gate, String name) {
        return task(() -> {
            gate.mark(name);
            gate.awaitOpen();
            gate.mark(name + "-finished");
            return name;
        });
    }

    private static void awaitStarted(Gate gate, String name) {
        Conditions.await(name + " to start", Duration.ofSeconds(LONG), () -> gate.marked(name));
    }

    /** Shuts {@code own} down and waits (bounded) for it: every task it ever took has completed. */
    private static void terminate(TaskExecutor own) throws InterruptedException {
        own.shutdown();
        assertThat(own.awaitTermination(LONG, TimeUnit.SECONDS)).as("terminated").isTrue();
    }

    // ───────────────────────────── arguments ─────────────────────────────

    @Test
    void nullTasksAndUnits_throwNullPointerException_fromEveryEntryPoint() {
        List<Callable<Integer>> withNull = new ArrayList<>();
        withNull.add(task(() -> 1));
        withNull.add(null);
        List<Callable<Integer>> ok = List.of(task(() -> 1));
        assertThatThrownBy(() -> executor.execute(null)).isInstanceOf(NullPointerException.class);
        assertThatThrownBy(() -> executor.submit((Callable<Integer>) null)).isInstanceOf(NullPointerException.class);
        assertThatThrownBy(() -> executor.submit((Runnable) null)).isInstanceOf(NullPointerException.class);
        assertThatThrownBy(() -> executor.submit((Runnable) null, "r")).isInstanceOf(NullPointerException.class);
        assertThatThrownBy(() -> executor.invokeAll(null)).isInstanceOf(NullPointerException.class);
        assertThatThrownBy(() -> executor.invokeAll(withNull)).isInstanceOf(NullPointerException.class);
        assertThatThrownBy(() -> executor.invokeAll(null, 1, TimeUnit.SECONDS)).isInstanceOf(NullPointerException.class);
        assertThatThrownBy(() -> executor.invokeAll(withNull, 1, TimeUnit.SECONDS)).isInstanceOf(NullPointerException.class);
        assertThatThrownBy(() -> executor.invokeAll(ok, 1, null)).isInstanceOf(NullPointerException.class);
        assertThatThrownBy(() -> executor.invokeAny(null)).isInstanceOf(NullPointerException.class);
        assertThatThrownBy(() -> executor.invokeAny(withNull)).isInstanceOf(NullPointerException.class);
        assertThatThrownBy(() -> executor.invokeAny(null, 1, TimeUnit.SECONDS)).isInstanceOf(NullPointerException.class);
        assertThatThrownBy(() -> executor.invokeAny(withNull, 1, TimeUnit.SECONDS)).isInstanceOf(NullPointerException.class);
        assertThatThrownBy(() -> executor.invokeAny(ok, 1, null)).isInstanceOf(NullPointerException.class);
    }

    @Test
    void bulkCallsOfNoTasks_invokeAllReturnsAnEmptyList_invokeAnyThrowsIllegalArgumentException() throws Exception {
        assertThat(executor.invokeAll(List.<Callable<Integer>>of())).isEmpty();
        assertThat(executor.invokeAll(List.<Callable<Integer>>of(), 1, TimeUnit.SECONDS)).isEmpty();
        assertThatThrownBy(() -> executor.invokeAny(List.<Callable<Integer>>of()))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> executor.invokeAny(List.<Callable<Integer>>of(), 1, TimeUnit.SECONDS))
                .isInstanceOf(IllegalArgumentException.class);
    }

    // ───────────────────────────── results and failures ─────────────────────────────

    /** A failure of the task's own. */
    static final class TaskBroke extends RuntimeException {
        @java.io.Serial
        private static final long serialVersionUID = 1L;

        TaskBroke(String message) {
            super(message);
        }
    }

    @Test
    void failedTask_isDoneNotCancelled_andGetWrapsItsOwnExceptionInExecutionException() throws Exception {
        Future<Integer> failed = executor.submit(task(() -> {
            throw new TaskBroke("the task's own");
        }));
        assertThatThrownBy(() -> failed.get(LONG, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
                .cause().isInstanceOf(TaskBroke.class).hasMessage("the task's own");
        assertThatThrownBy(failed::get).isInstanceOf(ExecutionException.class).cause().isInstanceOf(TaskBroke.class);
        assertThat(failed.isDone()).isTrue();
        assertThat(failed.isCancelled()).isFalse();
        assertThat(failed.cancel(true)).as("cancel of a completed task").isFalse();
        assertThat(failed.isCancelled()).isFalse();
        Future<Integer> error = executor.submit(task(() -> {
            throw new AssertionError("an Error of the task's");
        }));
        assertThatThrownBy(() -> error.get(LONG, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
                .cause().isInstanceOf(AssertionError.class).hasMessage("an Error of the task's");
    }

    @Test
    void submitRunnableWithResult_completesWithTheCallersOwnObject_evenOneThatCannotBeSerialized() throws Exception {
        Object mine = new Object(); // not serializable: it never needs to leave this JVM
        assertThat(executor.submit(runnable(() -> Math.abs(-1)), mine).get(LONG, TimeUnit.SECONDS)).isSameAs(mine);
        assertThat(executor.submit(runnable(() -> Math.abs(-1))).get(LONG, TimeUnit.SECONDS)).isNull();
    }

    @Test
    void execute_runsTheTask(@TempDir Path dir) {
        Gate gate = Gate.in(dir);
        executor.execute(runnable(() -> gate.mark("ran")));
        Conditions.await("the executed task to run", Duration.ofSeconds(LONG), () -> gate.marked("ran"));
    }

    @Test
    void invokeAll_returnsEveryFutureDone_inTheGivenOrder_failuresInTheirFutures() throws Exception {
        List<Callable<Integer>> tasks = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            int n = i;
            tasks.add(task(() -> {
                if (n == 3) {
                    throw new TaskBroke("three");
                }
                return n * 10;
            }));
        }
        List<Future<Integer>> futures = executor.invokeAll(tasks);
        assertThat(futures).hasSize(6).allMatch(Future::isDone);
        for (int i = 0; i < 6; i++) {
            if (i == 3) {
                assertThatThrownBy(futures.get(3)::get).isInstanceOf(ExecutionException.class)
                        .cause().isInstanceOf(TaskBroke.class).hasMessage("three");
            } else {
                assertThat(futures.get(i).get()).isEqualTo(i * 10);
            }
        }
    }

    @Test
    void timedInvokeAll_returnsAtTheTimeout_measuredFromTheCall_cancellingWhatIsUnfinished(@TempDir Path dir)
            throws Exception {
        Gate gate = Gate.in(dir);
        long start = System.nanoTime();
        List<Future<String>> futures = executor.invokeAll(List.of(gated(gate, "blocked")), 200, TimeUnit.MILLISECONDS);
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(LONG));
        assertThat(futures).hasSize(1).allMatch(Future::isDone);
        assertThat(futures.getFirst().isCancelled()).isTrue();
        assertThatThrownBy(futures.getFirst()::get).isInstanceOf(CancellationException.class);
        gate.open();
        assertThat(executor.submit(task(() -> 1)).get(LONG, TimeUnit.SECONDS)).as("the executor goes on").isEqualTo(1);
    }

    @Test
    void timedInvokeAll_whoseTasksFinishInTime_returnsTheirResults() throws Exception {
        List<Future<Integer>> futures = executor.invokeAll(List.of(task(() -> 1), task(() -> 2)), LONG, TimeUnit.SECONDS);
        assertThat(futures).hasSize(2).allMatch(Future::isDone).noneMatch(Future::isCancelled);
        assertThat(futures.get(0).get()).isEqualTo(1);
        assertThat(futures.get(1).get()).isEqualTo(2);
    }

    @Test
    void timedInvokeAll_withNoTimeLeft_cancelsEveryTask(@TempDir Path dir) throws Exception {
        Gate gate = Gate.in(dir);
        for (long timeout : new long[] {0, -1}) {
            List<Future<String>> futures = executor.invokeAll(List.of(gated(gate, "a"), gated(gate, "b")),
                    timeout, TimeUnit.SECONDS);
            assertThat(futures).hasSize(2).allMatch(Future::isDone).allMatch(Future::isCancelled);
        }
    }

    @Test
    void invokeAny_returnsASuccess_skippingFailures() throws Exception {
        assertThat(executor.invokeAny(List.of(task(() -> {
            throw new TaskBroke("no");
        }), task(() -> "yes")))).isEqualTo("yes");
        assertThat(executor.invokeAny(List.of(task(() -> "only")), LONG, TimeUnit.SECONDS)).isEqualTo("only");
    }

    @Test
    void invokeAny_returnsTheFirstSuccess_andStopsTheOthers(@TempDir Path dir) throws Exception {
        Gate gate = Gate.in(dir);
        TaskExecutor own = createExecutor(2);
        try {
            assertThat(own.invokeAny(List.of(gated(gate, "loser"), task(() -> "winner")))).isEqualTo("winner");
            gate.open(); // a loser that was not stopped would now finish
            terminate(own);
            assertThat(gate.marked("loser-finished")).as("the losing task finished after the call").isFalse();
        } finally {
            own.shutdownNow();
        }
    }

    @Test
    void invokeAny_whenEveryTaskFails_throwsExecutionExceptionWithATasksException() {
        List<Callable<String>> failing = List.of(task(() -> {
            throw new TaskBroke("first");
        }), task(() -> {
            throw new TaskBroke("second");
        }));
        assertThatThrownBy(() -> executor.invokeAny(failing)).isInstanceOf(ExecutionException.class)
                .cause().isInstanceOf(TaskBroke.class);
        assertThatThrownBy(() -> executor.invokeAny(failing, LONG, TimeUnit.SECONDS))
                .isInstanceOf(ExecutionException.class).cause().isInstanceOf(TaskBroke.class);
    }

    @Test
    void timedInvokeAny_whenNoTaskFinishesInTime_throwsTimeoutException_andCancelsThem(@TempDir Path dir) throws Exception {
        Gate gate = Gate.in(dir);
        TaskExecutor own = createExecutor(1);
        try {
            assertThatThrownBy(() -> own.invokeAny(List.of(gated(gate, "a"), gated(gate, "b")), 200, TimeUnit.MILLISECONDS))
                    .isInstanceOf(TimeoutException.class);
            gate.open(); // a task that was not cancelled would now finish
            terminate(own);
            assertThat(gate.marked("a-finished") || gate.marked("b-finished")).as("a task finished after the call").isFalse();
        } finally {
            own.shutdownNow();
        }
    }

    // ───────────────────────────── Future ─────────────────────────────

    @Test
    void getWithTimeout_throwsTimeoutException_whileTheTaskRuns_andTheFutureIsUntouched(@TempDir Path dir) throws Exception {
        Gate gate = Gate.in(dir);
        Future<String> f = executor.submit(gated(gate, "t"));
        assertThatThrownBy(() -> f.get(0, TimeUnit.SECONDS)).isInstanceOf(TimeoutException.class);
        awaitStarted(gate, "t");
        assertThatThrownBy(() -> f.get(50, TimeUnit.MILLISECONDS)).isInstanceOf(TimeoutException.class);
        assertThat(f.isDone()).isFalse();
        assertThatThrownBy(() -> f.get(1, null)).isInstanceOf(NullPointerException.class);
        gate.open();
        assertThat(f.get(LONG, TimeUnit.SECONDS)).isEqualTo("t");
        assertThat(f.isDone()).isTrue();
        assertThat(f.isCancelled()).isFalse();
    }

    @Test
    void cancelFalse_ofAQueuedTask_completesItCancelled_andItNeverRuns(@TempDir Path dir) throws Exception {
        Gate gate = Gate.in(dir);
        TaskExecutor own = createExecutor(1);
        try {
            Future<String> running = own.submit(gated(gate, "running"));
            Future<String> queued = own.submit(gated(gate, "queued"));
            awaitStarted(gate, "running");
            if (own.maxWorkers() != 1) {
                awaitStarted(gate, "queued"); // no queue: every task starts at once
            }
            assertThat(queued.cancel(false)).isTrue();
            assertThat(queued.isCancelled()).isTrue();
            assertThat(queued.isDone()).isTrue();
            assertThatThrownBy(queued::get).isInstanceOf(CancellationException.class);
            assertThatThrownBy(() -> queued.get(1, TimeUnit.SECONDS)).isInstanceOf(CancellationException.class);
            gate.open();
            assertThat(running.get(LONG, TimeUnit.SECONDS)).isEqualTo("running");
            terminate(own);
            if (own.maxWorkers() == 1) {
                assertThat(gate.marked("queued")).as("the cancelled queued task ran").isFalse();
            }
        } finally {
            own.shutdownNow();
        }
    }

    @Test
    void cancelTrue_ofARunningTask_stopsIt_andTheExecutorGoesOn(@TempDir Path dir) throws Exception {
        Gate gate = Gate.in(dir);
        TaskExecutor own = createExecutor(1);
        try {
            Future<String> running = own.submit(gated(gate, "running"));
            awaitStarted(gate, "running");
            assertThat(running.cancel(true)).isTrue();
            assertThat(running.isCancelled()).isTrue();
            assertThat(running.isDone()).isTrue();
            assertThatThrownBy(() -> running.get(LONG, TimeUnit.SECONDS)).isInstanceOf(CancellationException.class);
            running.cancel(false);
            assertThat(running.isCancelled()).as("a cancelled future stays cancelled").isTrue();
            gate.open(); // a task that was not stopped would now finish
            assertThat(own.submit(task(() -> 5)).get(LONG, TimeUnit.SECONDS)).isEqualTo(5);
            terminate(own);
            assertThat(gate.marked("running-finished")).as("the cancelled running task finished").isFalse();
        } finally {
            own.shutdownNow();
        }
    }

    @Test
    void cancelTrue_ofAQueuedTask_dropsIt_andLeavesTheRunningTaskAlone(@TempDir Path dir) throws Exception {
        Gate gate = Gate.in(dir);
        TaskExecutor own = createExecutor(1);
        try {
            Future<String> running = own.submit(gated(gate, "running"));
            awaitStarted(gate, "running");
            Future<String> queued = own.submit(gated(gate, "queued"));
            if (own.maxWorkers() != 1) {
                awaitStarted(gate, "queued"); // no queue: every task starts at once
            }
            assertThat(queued.cancel(true)).isTrue();
            assertThat(queued.isCancelled()).isTrue();
            gate.open();
            assertThat(running.get(LONG, TimeUnit.SECONDS)).as("the task running meanwhile").isEqualTo("running");
            terminate(own);
            if (own.maxWorkers() == 1) {
                assertThat(gate.marked("queued")).as("the cancelled queued task ran").isFalse();
            }
        } finally {
            gate.open();
            own.shutdownNow();
        }
    }

    @Test
    void cancelFalse_ofARunningTask_cancelsTheFuture_butLetsTheTaskRunToItsEnd(@TempDir Path dir) throws Exception {
        Gate gate = Gate.in(dir);
        TaskExecutor own = createExecutor(1);
        try {
            Future<String> running = own.submit(gated(gate, "running"));
            awaitStarted(gate, "running");
            assertThat(running.cancel(false)).isTrue();
            assertThat(running.isCancelled()).isTrue();
            assertThatThrownBy(running::get).isInstanceOf(CancellationException.class);
            gate.open();
            terminate(own); // shutdown waits for the running task, which no interrupt or kill stopped
            assertThat(gate.marked("running-finished")).as("the task ran to its end").isTrue();
            assertThatThrownBy(running::get).as("its result is dropped").isInstanceOf(CancellationException.class);
        } finally {
            gate.open();
            own.shutdownNow();
        }
    }

    @Test
    void cancel_ofACompletedTask_returnsFalse_andKeepsItsResult() throws Exception {
        Future<Integer> done = executor.submit(task(() -> 9));
        assertThat(done.get(LONG, TimeUnit.SECONDS)).isEqualTo(9);
        assertThat(done.cancel(true)).isFalse();
        assertThat(done.cancel(false)).isFalse();
        assertThat(done.isCancelled()).isFalse();
        assertThat(done.get()).isEqualTo(9);
    }

    // ───────────────────────────── interrupted callers ─────────────────────────────

    /** Issue 10, defect 2: the caller's interrupt is the caller's own business. */
    @Test
    void submitFromAnInterruptedThread_runsTheTaskNormally_andKeepsTheFlag() throws Exception {
        TaskExecutor own = createExecutor(1);
        try {
            for (int i = 0; i < 5; i++) {
                int n = i;
                Thread.currentThread().interrupt();
                Future<Integer> f = own.submit(() -> n);
                assertThat(Thread.interrupted()).as("the caller's interrupt flag").isTrue();
                assertThat(f.get(LONG, TimeUnit.SECONDS)).isEqualTo(n);
            }
        } finally {
            Thread.interrupted();
            own.shutdownNow();
        }
    }

    @Test
    void interruptedCallerOfGet_getsInterruptedException_andTheTaskGoesOn(@TempDir Path dir) throws Exception {
        Gate gate = Gate.in(dir);
        Future<String> f = executor.submit(gated(gate, "t"));
        Thread.currentThread().interrupt();
        assertThatThrownBy(f::get).isInstanceOf(InterruptedException.class);
        Thread.currentThread().interrupt();
        assertThatThrownBy(() -> f.get(LONG, TimeUnit.SECONDS)).isInstanceOf(InterruptedException.class);
        assertThat(f.isDone()).isFalse();
        gate.open();
        assertThat(f.get(LONG, TimeUnit.SECONDS)).isEqualTo("t");
    }

    @Test
    void interruptedCallerOfInvokeAll_getsInterruptedException_itsTasksAreCancelled_andTheExecutorGoesOn(
            @TempDir Path dir) throws Exception {
        Gate gate = Gate.in(dir);
        Thread.currentThread().interrupt();
        assertThatThrownBy(() -> executor.invokeAll(List.of(gated(gate, "a"))))
                .isInstanceOf(InterruptedException.class);
        Thread.currentThread().interrupt();
        assertThatThrownBy(() -> executor.invokeAll(List.of(gated(gate, "b")), LONG, TimeUnit.SECONDS))
                .isInstanceOf(InterruptedException.class);
        assertThat(Thread.interrupted()).as("the interrupt was consumed by the InterruptedException").isFalse();
        assertThat(executor.submit(task(() -> 3)).get(LONG, TimeUnit.SECONDS)).isEqualTo(3);
        gate.open();
        assertThat(executor.invokeAll(List.of(gated(gate, "c"))).getFirst().get()).isEqualTo("c");
    }

    @Test
    void callerInterruptedWhileInInvokeAny_getsInterruptedException_andTheExecutorGoesOn(@TempDir Path dir)
            throws Exception {
        Gate gate = Gate.in(dir);
        AtomicReference<Throwable> outcome = new AtomicReference<>();
        Thread caller = Thread.ofPlatform().start(() -> {
            try {
                executor.invokeAny(List.of(gated(gate, "a")));
                outcome.set(new AssertionError("invokeAny returned"));
            } catch (Throwable t) {
                outcome.set(t);
            }
        });
        awaitStarted(gate, "a");
        caller.interrupt();
        caller.join(TimeUnit.SECONDS.toMillis(LONG));
        assertThat(caller.isAlive()).as("the interrupted caller still waits").isFalse();
        assertThat(outcome.get()).isInstanceOf(InterruptedException.class);
        gate.open();
        assertThat(executor.submit(task(() -> 4)).get(LONG, TimeUnit.SECONDS)).isEqualTo(4);
    }

    // ───────────────────────────── lifecycle ─────────────────────────────

    @Test
    void awaitTermination_ofARunningExecutor_returnsFalseAtTheTimeout() throws Exception {
        TaskExecutor own = createExecutor(1);
        try {
            assertThat(own.isShutdown()).isFalse();
            assertThat(own.awaitTermination(0, TimeUnit.SECONDS)).isFalse();
            assertThat(own.awaitTermination(50, TimeUnit.MILLISECONDS)).isFalse();
            assertThat(own.isTerminated()).isFalse();
        } finally {
            own.shutdownNow();
        }
    }

    @Test
    void shutdown_refusesEveryEntryPoint_letsRunningAndQueuedTasksFinish_thenTerminates(@TempDir Path dir)
            throws Exception {
        Gate gate = Gate.in(dir);
        TaskExecutor own = createExecutor(1);
        try {
            Future<String> running = own.submit(gated(gate, "running"));
            Future<String> queued = own.submit(gated(gate, "queued"));
            awaitStarted(gate, "running");
            own.shutdown();
            own.shutdown(); // idempotent
            assertThat(own.isShutdown()).isTrue();
            assertThat(own.isTerminated()).as("terminated while a task runs").isFalse();
            assertThat(own.awaitTermination(50, TimeUnit.MILLISECONDS)).isFalse();
            List<Callable<Integer>> more = List.of(task(() -> 1));
            assertThatThrownBy(() -> own.execute(runnable(() -> { }))).isInstanceOf(RejectedExecutionException.class);
            assertThatThrownBy(() -> own.submit(() -> 1)).isInstanceOf(RejectedExecutionException.class);
            assertThatThrownBy(() -> own.submit(task(() -> 1))).isInstanceOf(RejectedExecutionException.class);
            assertThatThrownBy(() -> own.submit(runnable(() -> { }), "r")).isInstanceOf(RejectedExecutionException.class);
            assertThatThrownBy(() -> own.invokeAll(more)).isInstanceOf(RejectedExecutionException.class);
            assertThatThrownBy(() -> own.invokeAll(more, 1, TimeUnit.SECONDS)).isInstanceOf(RejectedExecutionException.class);
            assertThatThrownBy(() -> own.invokeAny(more)).isInstanceOf(RejectedExecutionException.class);
            assertThatThrownBy(() -> own.invokeAny(more, 1, TimeUnit.SECONDS)).isInstanceOf(RejectedExecutionException.class);
            gate.open();
            assertThat(own.awaitTermination(LONG, TimeUnit.SECONDS)).isTrue();
            assertThat(own.isTerminated()).isTrue();
            assertThat(running.get()).isEqualTo("running");
            assertThat(queued.get()).isEqualTo("queued");
            assertThat(own.shutdownNow()).as("nothing is left to hand back").isEmpty();
            assertThat(own.isTerminated()).isTrue();
        } finally {
            own.shutdownNow();
        }
    }

    /** Issue 10, defect 3: a cancelled queued task has completed, so shutdown must terminate. */
    @Test
    void cancelFalse_ofAQueuedTask_thenShutdown_terminatesOnceTheRunningTaskEnds(@TempDir Path dir) throws Exception {
        Gate gate = Gate.in(dir);
        TaskExecutor own = createExecutor(1);
        try {
            Future<String> running = own.submit(gated(gate, "running"));
            List<Future<String>> queued = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                queued.add(own.submit(gated(gate, "queued-" + i)));
            }
            awaitStarted(gate, "running");
            for (Future<String> q : queued) {
                q.cancel(false);
            }
            own.shutdown();
            gate.open();
            assertThat(own.awaitTermination(LONG, TimeUnit.SECONDS)).as("terminated").isTrue();
            assertThat(running.get()).isEqualTo("running");
            assertThat(queued).allMatch(Future::isCancelled);
        } finally {
            own.shutdownNow();
        }
    }

    @Test
    void cancelFalse_ofEveryQueuedTask_afterShutdown_terminates(@TempDir Path dir) throws Exception {
        Gate gate = Gate.in(dir);
        TaskExecutor own = createExecutor(1);
        try {
            Future<String> running = own.submit(gated(gate, "running"));
            Future<String> queued = own.submit(gated(gate, "queued"));
            awaitStarted(gate, "running");
            own.shutdown();
            queued.cancel(false);
            gate.open();
            assertThat(own.awaitTermination(LONG, TimeUnit.SECONDS)).as("terminated").isTrue();
            assertThat(running.get()).isEqualTo("running");
        } finally {
            own.shutdownNow();
        }
    }

    /**
     * Issue 14: on an executor without a queue (virtual threads) every task has started, so none is
     * handed back, and each must still be stopped and cancelled.
     */
    @Test
    void shutdownNow_stopsRunningTasks_handsBackTheUnstarted_cancelsEveryFuture_andTerminates(@TempDir Path dir)
            throws Exception {
        Gate gate = Gate.in(dir);
        TaskExecutor own = createExecutor(1);
        try {
            List<Future<String>> futures = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                futures.add(own.submit(gated(gate, "t" + i)));
            }
            int started = own.maxWorkers() == 1 ? 1 : 4;
            for (int i = 0; i < started; i++) {
                awaitStarted(gate, "t" + i);
            }
            Runnable executed = runnable(() -> gate.mark("executed"));
            own.execute(executed);
            if (own.maxWorkers() != 1) {
                Conditions.await("the executed task to run", Duration.ofSeconds(LONG), () -> gate.marked("executed"));
            }
            List<Runnable> neverStarted = own.shutdownNow();
            if (own.maxWorkers() == 1) {
                assertThat(neverStarted).hasSize(4).contains(executed);
            } else {
                assertThat(neverStarted).isEmpty();
            }
            assertThat(own.isShutdown()).isTrue();
            assertThatThrownBy(() -> own.submit(task(() -> 1))).isInstanceOf(RejectedExecutionException.class);
            gate.open(); // a task that was not stopped would now finish
            assertThat(own.awaitTermination(LONG, TimeUnit.SECONDS)).isTrue();
            assertThat(own.isTerminated()).isTrue();
            assertThat(futures).allMatch(Future::isDone).allMatch(Future::isCancelled);
            for (int i = 0; i < 4; i++) {
                assertThat(gate.marked("t" + i + "-finished")).as("t" + i + " finished").isFalse();
            }
            for (int i = started; i < 4; i++) {
                assertThat(gate.marked("t" + i)).as("t" + i + " started after shutdownNow").isFalse();
            }
            if (own.maxWorkers() == 1) {
                assertThat(gate.marked("executed")).as("the handed-back task ran").isFalse();
            }
        } finally {
            gate.open();
            own.shutdownNow();
        }
    }

    @Test
    void close_waitsForEveryTask_thenTerminates_andIsIdempotent(@TempDir Path dir) throws Exception {
        Gate gate = Gate.in(dir);
        TaskExecutor own = createExecutor(1);
        try {
            Future<String> running = own.submit(gated(gate, "running"));
            Future<String> queued = own.submit(gated(gate, "queued"));
            awaitStarted(gate, "running");
            AtomicBoolean closed = new AtomicBoolean();
            Thread closer = Thread.ofPlatform().start(() -> {
                own.close();
                closed.set(true);
            });
            Conditions.await("close() to shut the executor down", Duration.ofSeconds(LONG), own::isShutdown);
            assertThat(closed.get()).as("close() returned while a task runs").isFalse();
            gate.open();
            closer.join(TimeUnit.SECONDS.toMillis(LONG));
            assertThat(closed.get()).as("close() returned").isTrue();
            assertThat(own.isTerminated()).isTrue();
            assertThat(running.get()).isEqualTo("running");
            assertThat(queued.get()).isEqualTo("queued");
            own.close(); // closing a closed executor returns at once
        } finally {
            gate.open();
            own.shutdownNow();
        }
    }

    @Test
    void close_whenInterrupted_stopsTheTasks_returns_andKeepsTheInterrupt(@TempDir Path dir) throws Exception {
        Gate gate = Gate.in(dir);
        TaskExecutor own = createExecutor(1);
        try {
            Future<String> running = own.submit(gated(gate, "running"));
            awaitStarted(gate, "running");
            AtomicBoolean interruptKept = new AtomicBoolean();
            Thread closer = Thread.ofPlatform().start(() -> {
                own.close();
                interruptKept.set(Thread.currentThread().isInterrupted());
            });
            Conditions.await("close() to shut the executor down", Duration.ofSeconds(LONG), own::isShutdown);
            closer.interrupt();
            closer.join(TimeUnit.SECONDS.toMillis(LONG));
            assertThat(closer.isAlive()).as("close() still waits after an interrupt").isFalse();
            assertThat(interruptKept.get()).as("close() kept the interrupt").isTrue();
            assertThat(own.isTerminated()).isTrue();
            assertThat(running.isCancelled()).isTrue();
        } finally {
            gate.open();
            own.shutdownNow();
        }
    }

    // ───────────────────────────── CompletionService ─────────────────────────────

    @Test
    void completionService_yieldsFuturesInCompletionOrder_theSameOnesItReturned(@TempDir Path dir) throws Exception {
        Gate gate = Gate.in(dir);
        CompletionService<String> service = new ExecutorCompletionService<>(executor);
        Future<String> slow = service.submit(gated(gate, "slow"));
        Future<String> quick = service.submit(task(() -> "quick"));
        assertThat(service.take()).isSameAs(quick);
        assertThat(quick.get()).isEqualTo("quick");
        awaitStarted(gate, "slow");
        assertThat(service.poll()).as("nothing else is done").isNull();
        assertThat(service.poll(10, TimeUnit.MILLISECONDS)).isNull();
        gate.open();
        assertThat(service.poll(LONG, TimeUnit.SECONDS)).isSameAs(slow);
        assertThat(slow.get()).isEqualTo("slow");
        Object mine = new Object();
        Future<Object> withResult = new ExecutorCompletionService<Object>(executor).submit(runnable(() -> { }), mine);
        assertThat(withResult.get(LONG, TimeUnit.SECONDS)).isSameAs(mine);
    }

    @Test
    void completionService_queuesFailedAndCancelledFutures_andRejectsNull(@TempDir Path dir) throws Exception {
        Gate gate = Gate.in(dir);
        CompletionService<String> service = new ExecutorCompletionService<>(executor);
        Future<String> failing = service.submit(task(() -> {
            throw new TaskBroke("broke");
        }));
        assertThat(service.poll(LONG, TimeUnit.SECONDS)).isSameAs(failing);
        assertThatThrownBy(failing::get).isInstanceOf(ExecutionException.class).cause().isInstanceOf(TaskBroke.class);
        Future<String> blocked = service.submit(gated(gate, "blocked"));
        assertThat(blocked.cancel(true)).isTrue();
        assertThat(service.poll(LONG, TimeUnit.SECONDS)).isSameAs(blocked);
        assertThat(blocked.isCancelled()).isTrue();
        assertThatThrownBy(() -> service.submit(null)).isInstanceOf(NullPointerException.class);
        assertThatThrownBy(() -> service.submit(null, "r")).isInstanceOf(NullPointerException.class);
        gate.open();
    }

    @Test
    void completionService_afterShutdown_rejectsTheTask() throws Exception {
        TaskExecutor own = createExecutor(1);
        try {
            own.shutdown();
            CompletionService<Integer> service = new ExecutorCompletionService<>(own);
            assertThatThrownBy(() -> service.submit(task(() -> 1))).isInstanceOf(RejectedExecutionException.class);
            assertThat(own.awaitTermination(LONG, TimeUnit.SECONDS)).isTrue();
        } finally {
            own.shutdownNow();
        }
    }
}
