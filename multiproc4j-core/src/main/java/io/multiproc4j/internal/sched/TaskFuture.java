package io.multiproc4j.internal.sched;

import io.multiproc4j.TaskFailedException;
import io.multiproc4j.spi.Engine;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RunnableFuture;

/**
 * An executor task's future, and the bookkeeping of its batch of one: the engine reports straight
 * into it (no separate job, results array or counters per task, which keeps {@code submit} lean).
 * {@code cancel(true)} stops the task where it runs (the engine kills its worker JVM, or interrupts
 * its thread); {@code cancel(false)} only completes the future, and the engine drops the batch
 * unstarted because the job's {@code isCancelled()}, which is the future's, says nobody wants it.
 *
 * <p>It is a {@link RunnableFuture} so that {@link EngineExecutor#newTaskFor} can hand it to an
 * {@link java.util.concurrent.ExecutorCompletionService}: such a future is created
 * <em>unsubmitted</em> (it holds its task), and submitted when the executor claims it.
 *
 * <p>Concurrency: completion is {@link CompletableFuture}'s own (first wins, so a result racing a
 * cancel is dropped); {@code batch} is written by the submitting thread before the batch reaches
 * the engine; an unsubmitted task is taken once, under this future's monitor.
 */
final class TaskFuture<T> extends ResultFuture<T> implements Job, RunnableFuture<T> {
    /** Means "complete with the task's own return value" (a {@code submit(Runnable, result)} has its own). */
    static final Object TASK_RESULT = new Object();

    private final Engine engine;
    private final Object result;
    private volatile BatchTask batch;
    /** Set only on a future made by {@code newTaskFor}: the executor that will send it. */
    private final EngineExecutor owner;
    /** The task of an unsubmitted future; null once taken (to be sent). Guarded by this. */
    private Object unsubmitted;

    TaskFuture(Engine engine) {
        this(engine, TASK_RESULT, null, null);
    }

    /**
     * @param engine where the task runs
     * @param result what the future completes with when the task returns, or {@link #TASK_RESULT}
     */
    TaskFuture(Engine engine, Object result) {
        this(engine, result, null, null);
    }

    private TaskFuture(Engine engine, Object result, EngineExecutor owner, Object task) {
        this.engine = engine;
        this.result = result;
        this.owner = owner;
        this.unsubmitted = task;
    }

    /**
     * @return a future whose task is not sent yet: {@code owner} sends it when it claims the future
     *     ({@link #takeUnsubmittedTask}) or when {@link #run()} is called
     */
    static <T> TaskFuture<T> unsubmitted(EngineExecutor owner, Engine engine, Object task, Object result) {
        return new TaskFuture<>(engine, result, owner, task);
    }

    /** @return whether {@code executor} made this future unsubmitted (in its {@code newTaskFor}) */
    boolean madeBy(EngineExecutor executor) {
        return owner == executor;
    }

    /** @return the task, once: whoever gets it sends it; null when it was taken already */
    synchronized Object takeUnsubmittedTask() {
        Object task = unsubmitted;
        unsubmitted = null;
        return task;
    }

    void attach(BatchTask batch) {
        this.batch = batch;
    }

    BatchTask batch() {
        return batch;
    }

    // ───────────────────────────── Job: what the engine reports ─────────────────────────────
    // Job.isCancelled() is Future.isCancelled(): a batch whose future was cancelled is dropped unstarted.

    @Override
    @SuppressWarnings("unchecked")
    public void onResults(BatchTask batch, int offset, List<?> values) {
        complete((T) (result == TASK_RESULT ? values.getFirst() : result));
    }

    @Override
    public void onFailure(BatchTask batch, int offset, RuntimeException failure) {
        completeExceptionally(unwrap(failure));
    }

    /** The task's own exception is what an ExecutorService user expects as the cause. */
    static Throwable unwrap(RuntimeException failure) {
        return failure.getClass() == TaskFailedException.class && failure.getCause() != null
                ? failure.getCause() : failure;
    }

    // ───────────────────────────── Future ─────────────────────────────

    @Override
    public boolean cancel(boolean mayInterruptIfRunning) {
        boolean cancelled = super.cancel(mayInterruptIfRunning);
        BatchTask task = batch;
        if (cancelled && mayInterruptIfRunning && task != null) {
            engine.interrupt(task);
        }
        return cancelled;
    }

    /**
     * {@link RunnableFuture#run()}: sends a task that was not sent yet and waits until the future
     * is done; returns at once when the task was sent already (as {@code FutureTask.run()} does
     * while another thread runs it).
     */
    @Override
    public void run() {
        Object task = owner == null ? null : takeUnsubmittedTask();
        if (task != null) {
            owner.send(this, task);
            try {
                join();
            } catch (RuntimeException e) {
                // the outcome is this future's; run() reports nothing
            }
        }
    }
}
