package io.multiproc4j.internal.sched;

import io.multiproc4j.SerializableCallable;
import io.multiproc4j.SerializableFunction;
import io.multiproc4j.SerializableRunnable;
import io.multiproc4j.TaskExecutor;
import io.multiproc4j.spi.Batch;
import io.multiproc4j.spi.Codec;
import io.multiproc4j.spi.Engine;
import java.io.IOException;
import java.io.NotSerializableException;
import java.io.Serializable;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.AbstractExecutorService;
import java.util.concurrent.Callable;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Flow;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.RunnableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A {@link TaskExecutor} over any {@link Engine}, following the {@link java.util.concurrent.ExecutorService}
 * contract.
 *
 * <p>Data flow: every task is a batch of one whose input is the task itself and whose function is
 * {@link CallTask}, shipped to each worker once. The task is encoded here, in the submitting thread,
 * so a task that cannot travel is refused at the call, with {@link RejectedExecutionException}
 * ({@code Executor.execute}'s "cannot be accepted for execution") naming its class and the fix. Its
 * {@link TaskFuture} is also the batch's job: the engine completes it directly. A
 * {@code submit(Runnable, result)} ships only the runnable; the result object stays here.
 *
 * <p>{@link java.util.concurrent.ExecutorCompletionService}: it asks {@link #newTaskFor} for the
 * future it hands out, then calls {@code execute} with its own JDK wrapper around that future (not
 * serializable, so it cannot go to a worker JVM). {@code newTaskFor} gives an <em>unsubmitted</em>
 * {@link TaskFuture} and remembers it for the calling thread; the {@code execute} that follows on that
 * thread with a JDK {@link RunnableFuture} claims it: the user's (serializable) task runs in a worker,
 * and when the future completes (result, failure or cancellation) the wrapper runs here, on the
 * completing thread, where it finds its future done and does its completion (the ECS queues it).
 * Other non-serializable JDK wrappers ({@code CompletableFuture.runAsync}'s, a user's
 * {@code FutureTask}) cannot be opened and are refused, saying to submit the task itself.
 *
 * <p>Concurrency: submission is lock-free here (the engine queues); {@code shutdown} is a volatile
 * flag checked before each submission, and the engine refuses what races past it.
 *
 * <p>Shutdown: {@code shutdown()} stops intake and lets the engine finish every accepted batch (a
 * cancelled one is dropped: it has completed) before it stops its workers; then the executor is
 * terminated. {@code shutdownNow()} takes back the batches that never started, cancels their
 * futures, and returns their tasks; termination also waits for that hand-back to finish, so every
 * future is done once {@code awaitTermination} returns {@code true}.
 */
public final class EngineExecutor extends AbstractExecutorService implements TaskExecutor {
    /** The future {@link #newTaskFor} made on this thread, until the {@code execute} that claims it. */
    private static final ThreadLocal<TaskFuture<?>> MADE_FOR_WRAPPER = new ThreadLocal<>();

    private final Engine engine;
    private final boolean ships;
    private final Codec codec;
    private final FunctionSpec call;
    private volatile boolean shutdown;
    private volatile boolean engineStopped;
    /** Set once {@link #newTaskFor} was used, so a plain {@code execute} skips the thread-local. */
    private volatile boolean wrappersSeen;
    /** Held while shutdownNow hands back unstarted tasks: termination waits for it. */
    private final ReentrantLock stopping = new ReentrantLock();

    /**
     * @param engine where tasks run
     * @param codec  how tasks travel to engines that ship them
     */
    public EngineExecutor(Engine engine, Codec codec) {
        this.engine = engine;
        this.ships = engine.shipsTasks();
        this.codec = codec;
        byte[] bytes = null;
        if (ships) {
            try {
                bytes = codec.encode(new CallTask());
            } catch (IOException e) {
                throw new IllegalStateException("the codec cannot encode the executor's own function", e);
            }
        }
        this.call = new FunctionSpec(new CallTask(), bytes, ScheduledPool.FUNCTION_IDS.incrementAndGet());
    }

    @Override
    public int maxWorkers() {
        return engine.workers();
    }

    // ───────────────────────────── submitting ─────────────────────────────

    @Override
    public <T> CompletableFuture<T> submit(SerializableCallable<T> task) {
        return submitTask(Objects.requireNonNull(task, "task"), TaskFuture.TASK_RESULT);
    }

    @Override
    public CompletableFuture<Void> submit(SerializableRunnable task) {
        return submitTask(Objects.requireNonNull(task, "task"), TaskFuture.TASK_RESULT);
    }

    @Override
    public <T> CompletableFuture<T> submit(Callable<T> task) {
        return submitTask(Objects.requireNonNull(task, "task"), TaskFuture.TASK_RESULT);
    }

    @Override
    public CompletableFuture<?> submit(Runnable task) {
        return submitTask(Objects.requireNonNull(task, "task"), TaskFuture.TASK_RESULT);
    }

    @Override
    public <T> CompletableFuture<T> submit(Runnable task, T result) {
        return submitTask(Objects.requireNonNull(task, "task"), result);
    }

    @Override
    public void execute(Runnable command) {
        Objects.requireNonNull(command, "command");
        if (wrappersSeen && claim(command)) {
            return;
        }
        submitTask(command, TaskFuture.TASK_RESULT).whenComplete((v, failure) -> {
            if (failure != null && !(failure instanceof CancellationException)) {
                uncaught(failure);
            }
        });
    }

    private static void uncaught(Throwable failure) {
        Thread t = Thread.currentThread();
        Thread.UncaughtExceptionHandler handler = Thread.getDefaultUncaughtExceptionHandler();
        if (handler != null) {
            handler.uncaughtException(t, failure);
        } else {
            System.err.println("multiproc4j: a task given to execute() failed:");
            failure.printStackTrace();
        }
    }

    private <T> TaskFuture<T> submitTask(Object task, Object result) {
        if (shutdown) {
            throw rejectedAfterShutdown();
        }
        List<Object> inputs = new ArrayList<>(1);
        inputs.add(task);
        byte[] encoded = ships ? encode(task, inputs) : null;
        var future = new TaskFuture<T>(engine, result);
        dispatch(future, inputs, encoded);
        return future;
    }

    private void dispatch(TaskFuture<?> future, List<Object> inputs, byte[] encoded) {
        var batch = new BatchTask(call, inputs, 0, future, encoded);
        future.attach(batch);
        execute(batch);
    }

    /**
     * Hands a batch to the engine with the caller's interrupt flag put aside: an engine may write
     * to a worker's channel from this thread, and an interrupted write closes the channel (the
     * worker would be lost for a flag that was the caller's own business). The flag is restored.
     */
    private void execute(BatchTask batch) {
        boolean interrupted = Thread.interrupted();
        try {
            engine.execute(batch);
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private static RejectedExecutionException rejectedAfterShutdown() {
        return new RejectedExecutionException("the executor is shut down and takes no new tasks");
    }

    /** Encodes a task's inputs, or refuses the task with {@link RejectedExecutionException}, naming the fix. */
    private byte[] encode(Object task, List<Object> inputs) {
        if (!(task instanceof Serializable) || isJdkWrapper(task)) {
            throw notSerializable(task);
        }
        try {
            return codec.encode(inputs);
        } catch (NotSerializableException e) {
            throw new RejectedExecutionException("the task cannot be sent to a worker JVM: it captures a "
                    + e.getMessage() + ", which is not Serializable. Make that class implement "
                    + "java.io.Serializable, or capture only serializable values.", e);
        } catch (IOException | RuntimeException e) {
            throw new RejectedExecutionException("the task cannot be sent to a worker JVM: " + e, e);
        }
    }

    /**
     * A future of the JDK's that is its own task ({@code FutureTask}, {@code CompletableFuture}'s
     * async tasks, which are {@code ForkJoinTask}s and so Serializable, but hold their future and
     * executor): it cannot travel, and the task inside cannot be reached.
     */
    private static boolean isJdkWrapper(Object task) {
        return task instanceof Future<?> && task.getClass().getModule() == Object.class.getModule();
    }

    private static RejectedExecutionException notSerializable(Object task) {
        String type = task.getClass().getName();
        if (isJdkWrapper(task)) {
            return new RejectedExecutionException("a " + type + " cannot be sent to a worker JVM (the JDK's "
                    + "wrappers are not serializable, and the task inside cannot be reached): submit the task "
                    + "itself, whose future is a CompletableFuture (use it in place of runAsync/supplyAsync "
                    + "or a FutureTask); ExecutorCompletionService works as is");
        }
        return new RejectedExecutionException("a task given to a process executor must be serializable, and this "
                + type + " is not: write the task as a lambda in the submit call "
                + "(it then is a SerializableCallable or SerializableRunnable), or make its class implement "
                + "java.io.Serializable");
    }

    // ───────────────────────────── ExecutorCompletionService ─────────────────────────────

    @Override
    protected <T> RunnableFuture<T> newTaskFor(Callable<T> callable) {
        return madeForWrapper(TaskFuture.unsubmitted(this, engine, Objects.requireNonNull(callable, "task"),
                TaskFuture.TASK_RESULT));
    }

    @Override
    protected <T> RunnableFuture<T> newTaskFor(Runnable runnable, T value) {
        return madeForWrapper(TaskFuture.unsubmitted(this, engine, Objects.requireNonNull(runnable, "task"), value));
    }

    private <T> TaskFuture<T> madeForWrapper(TaskFuture<T> future) {
        wrappersSeen = true;
        MADE_FOR_WRAPPER.set(future);
        return future;
    }

    /**
     * Claims the future {@link #newTaskFor} just made on this thread if {@code command} is a JDK
     * wrapper (around it): the future's task is sent, and {@code command} runs when the future is done.
     *
     * @return whether {@code command} was taken care of
     */
    private boolean claim(Runnable command) {
        TaskFuture<?> made = MADE_FOR_WRAPPER.get();
        if (made == null) {
            return false;
        }
        MADE_FOR_WRAPPER.remove();
        if (command == made || !made.madeBy(this) || !(command instanceof RunnableFuture<?>)
                || command.getClass().getModule() != Object.class.getModule()) {
            return false;
        }
        Object task = made.takeUnsubmittedTask();
        if (task != null) {
            send(made, task);
        }
        // allOf gives a plain stage: the wrapper runs on the completing thread, before termination.
        CompletableFuture.allOf(made).whenComplete((v, t) -> {
            try {
                command.run();
            } catch (Throwable failure) {
                uncaught(failure);
            }
        });
        return true;
    }

    /** Sends the task of an unsubmitted future (unless the future was cancelled meanwhile). */
    void send(TaskFuture<?> future, Object task) {
        if (shutdown) {
            throw rejectedAfterShutdown();
        }
        List<Object> inputs = new ArrayList<>(1);
        inputs.add(task);
        byte[] encoded = ships ? encode(task, inputs) : null;
        if (!future.isDone()) {
            dispatch(future, inputs, encoded);
        }
    }

    @Override
    public <T, R> Flow.Publisher<R> publish(SerializableFunction<? super T, ? extends R> fn, Iterable<? extends T> inputs) {
        return ScheduledPool.publisher(engine, codec, fn, inputs, 1, () -> {
            if (shutdown) {
                throw rejectedAfterShutdown();
            }
        });
    }

    // ───────────────────────────── bulk ─────────────────────────────

    /**
     * Checks a bulk call's tasks before any is submitted: the collection and each task non-null
     * ({@link NullPointerException}), and the executor running ({@link RejectedExecutionException}).
     */
    private <T> List<Callable<T>> checkBulk(Collection<? extends Callable<T>> tasks) {
        Objects.requireNonNull(tasks, "tasks");
        List<Callable<T>> checked = new ArrayList<>(tasks.size());
        for (Callable<T> task : tasks) {
            checked.add(Objects.requireNonNull(task, () -> "tasks[" + checked.size() + "] is null"));
        }
        if (shutdown) {
            throw rejectedAfterShutdown();
        }
        return checked;
    }

    @Override
    public <T> List<Future<T>> invokeAll(Collection<? extends Callable<T>> tasks) throws InterruptedException {
        List<Future<T>> futures = submitAll(checkBulk(tasks));
        boolean done = false;
        try {
            for (Future<T> f : futures) {
                try {
                    f.get();
                } catch (ExecutionException | CancellationException e) {
                    // reported through its future
                }
            }
            done = true;
            return futures;
        } finally {
            if (!done) {
                cancelAll(futures); // interrupted: the call did not happen, as AbstractExecutorService does
            }
        }
    }

    @Override
    public <T> List<Future<T>> invokeAll(Collection<? extends Callable<T>> tasks, long timeout, TimeUnit unit)
            throws InterruptedException {
        long nanos = unit.toNanos(timeout);
        long start = System.nanoTime();
        List<Callable<T>> checked = checkBulk(tasks);
        if (nanos <= 0) {
            List<Future<T>> cancelled = new ArrayList<>(checked.size());
            for (int i = 0; i < checked.size(); i++) {
                var f = new TaskFuture<T>(engine);
                f.cancel(false);
                cancelled.add(f);
            }
            return cancelled; // no time at all: nothing runs, every task is not completed, so cancelled
        }
        List<Future<T>> futures = submitAll(checked);
        try {
            for (Future<T> f : futures) {
                long left = nanos - (System.nanoTime() - start);
                if (left <= 0) {
                    break;
                }
                try {
                    f.get(left, TimeUnit.NANOSECONDS);
                } catch (ExecutionException | CancellationException e) {
                    // reported through its future
                } catch (TimeoutException e) {
                    break;
                }
            }
            return futures;
        } finally {
            cancelAll(futures); // what has not finished by the deadline is cancelled, as ExecutorService says
        }
    }

    private static <T> void cancelAll(List<Future<T>> futures) {
        for (Future<T> f : futures) {
            f.cancel(true);
        }
    }

    /**
     * Many tiny tasks cost a round trip each; on worker JVMs they go in chunks, as Python's
     * {@code executor.map(chunksize=...)} does, each task still with its own future. Every task is
     * encoded before any is submitted: one that cannot travel refuses the whole call.
     */
    private <T> List<Future<T>> submitAll(List<Callable<T>> tasks) {
        int workers = Math.max(1, engine.workers());
        if (ships && workers < 1024 && tasks.size() >= 8L * workers) {
            return submitChunked(tasks, workers);
        }
        List<List<Object>> inputs = new ArrayList<>(tasks.size());
        List<byte[]> encoded = new ArrayList<>(tasks.size());
        for (Callable<T> task : tasks) {
            List<Object> one = new ArrayList<>(1);
            one.add(task);
            inputs.add(one);
            encoded.add(ships ? encode(task, one) : null);
        }
        List<Future<T>> futures = new ArrayList<>(tasks.size());
        try {
            for (int i = 0; i < inputs.size(); i++) {
                var future = new TaskFuture<T>(engine);
                dispatch(future, inputs.get(i), encoded.get(i));
                futures.add(future);
            }
        } catch (RuntimeException e) {
            cancelAll(futures); // shut down meanwhile: the call takes nothing
            throw e;
        }
        return futures;
    }

    private <T> List<Future<T>> submitChunked(List<Callable<T>> tasks, int workers) {
        List<Object> all = new ArrayList<>(tasks.size());
        for (Callable<T> task : tasks) {
            if (!(task instanceof Serializable)) {
                throw notSerializable(task);
            }
            all.add(task);
        }
        int chunk = (int) Math.min(1_000, (all.size() + 4L * workers - 1) / (4L * workers));
        List<TaskFuture<T>> futures = new ArrayList<>(all.size());
        for (int i = 0; i < all.size(); i++) {
            futures.add(new TaskFuture<>(engine));
        }
        List<BatchTask> batches = new ArrayList<>();
        for (int start = 0; start < all.size(); start += chunk) {
            int end = Math.min(all.size(), start + chunk);
            var job = new BulkJob<>(new ArrayList<>(all.subList(start, end)),
                    new ArrayList<>(futures.subList(start, end)), this::submitBulk);
            // Encode every chunk before submitting any: a task that cannot travel refuses the whole call.
            var batch = new BatchTask(call, job.tasks(), 0, job, encode(job.tasks().getFirst(), job.tasks()));
            job.futures().forEach(f -> f.attach(batch));
            batches.add(batch);
        }
        try {
            batches.forEach(this::execute);
        } catch (RuntimeException e) {
            futures.forEach(f -> f.cancel(true)); // shut down meanwhile: the call takes nothing
            throw e;
        }
        return new ArrayList<>(futures);
    }

    /** Sends out again the tasks of a chunk that stopped early; after shutdownNow, cancels them. */
    private <T> void submitBulk(BulkJob<T> job) {
        if (shutdown && engine.isTerminated() || engineStopped) {
            job.futures().forEach(f -> f.cancel(false));
            return;
        }
        var batch = new BatchTask(call, job.tasks(), 0, job, null);
        job.futures().forEach(f -> f.attach(batch));
        try {
            engine.execute(batch);
        } catch (RejectedExecutionException e) {
            job.futures().forEach(f -> f.completeExceptionally(e));
        }
    }

    @Override
    public <T> T invokeAny(Collection<? extends Callable<T>> tasks) throws InterruptedException, ExecutionException {
        try {
            return doInvokeAny(tasks, false, 0);
        } catch (TimeoutException e) {
            throw new IllegalStateException("unreachable: no timeout", e);
        }
    }

    @Override
    public <T> T invokeAny(Collection<? extends Callable<T>> tasks, long timeout, TimeUnit unit)
            throws InterruptedException, ExecutionException, TimeoutException {
        return doInvokeAny(tasks, true, unit.toNanos(timeout));
    }

    private <T> T doInvokeAny(Collection<? extends Callable<T>> tasks, boolean timed, long nanos)
            throws InterruptedException, ExecutionException, TimeoutException {
        long start = System.nanoTime();
        List<Callable<T>> checked = checkBulk(tasks);
        if (checked.isEmpty()) {
            throw new IllegalArgumentException("invokeAny needs at least one task, and the collection is empty");
        }
        var finished = new LinkedBlockingQueue<Future<T>>();
        List<Future<T>> futures = submitAll(checked);
        try {
            for (Future<T> f : futures) {
                // a plain stage runs inline on the completing thread: no callback thread per task
                CompletableFuture.allOf((CompletableFuture<?>) f).whenComplete((v, t) -> finished.add(f));
            }
            ExecutionException last = null;
            for (int i = 0; i < futures.size(); i++) {
                Future<T> f = timed ? finished.poll(nanos - (System.nanoTime() - start), TimeUnit.NANOSECONDS)
                        : finished.take();
                if (f == null) {
                    throw new TimeoutException("no task of " + futures.size() + " finished successfully in time");
                }
                try {
                    return f.get();
                } catch (ExecutionException e) {
                    last = e;
                } catch (CancellationException e) {
                    last = new ExecutionException("a task was cancelled", e);
                }
            }
            throw last;
        } finally {
            cancelAll(futures); // the losers
        }
    }

    // ───────────────────────────── lifecycle ─────────────────────────────

    @Override
    public void shutdown() {
        shutdown = true;
        engine.shutdown();
    }

    @Override
    public List<Runnable> shutdownNow() {
        shutdown = true;
        engineStopped = true;
        List<Runnable> neverStarted = new ArrayList<>();
        stopping.lock();
        try {
            var cancelled = new CancellationException("the executor was shut down before this task started");
            for (Batch batch : engine.shutdownNow()) {
                for (Object task : batch.inputs()) {
                    neverStarted.add(switch (task) {
                        case Runnable r -> r;
                        case Callable<?> c -> () -> {
                            try {
                                c.call();
                            } catch (Exception e) {
                                throw new IllegalStateException(e);
                            }
                        };
                        default -> throw new IllegalStateException("not a task: " + task);
                    });
                }
                batch.fail(0, cancelled);
            }
        } finally {
            stopping.unlock();
        }
        return neverStarted;
    }

    @Override
    public boolean isShutdown() {
        return shutdown;
    }

    @Override
    public boolean isTerminated() {
        return shutdown && engine.isTerminated() && !stopping.isLocked();
    }

    @Override
    public boolean awaitTermination(long timeout, TimeUnit unit) throws InterruptedException {
        long nanos = unit.toNanos(timeout);
        long start = System.nanoTime();
        if (!engine.awaitTermination(Duration.ofNanos(nanos))) {
            return false;
        }
        if (!stopping.tryLock(Math.max(0, nanos - (System.nanoTime() - start)), TimeUnit.NANOSECONDS)) {
            return false;
        }
        stopping.unlock();
        return shutdown;
    }
}
