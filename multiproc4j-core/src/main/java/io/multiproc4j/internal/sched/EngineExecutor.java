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
import java.util.concurrent.Callable;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Flow;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A {@link TaskExecutor} over any {@link Engine}. Every task is a batch of one whose input is the
 * task itself and whose function is {@link CallTask}, shipped to each worker once. The task is
 * encoded here, in the submitting thread, so a task that cannot travel is refused at the call.
 */
public final class EngineExecutor implements TaskExecutor {
    private final Engine engine;
    private final Codec codec;
    private final FunctionSpec call;
    private volatile boolean shutdown;
    private volatile boolean engineStopped;

    /**
     * @param engine where tasks run
     * @param codec  how tasks travel to engines that ship them
     */
    public EngineExecutor(Engine engine, Codec codec) {
        this.engine = engine;
        this.codec = codec;
        byte[] bytes = null;
        if (engine.shipsTasks()) {
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
        return submitTask(Objects.requireNonNull(task, "task"));
    }

    @Override
    public CompletableFuture<Void> submit(SerializableRunnable task) {
        return submitTask(Objects.requireNonNull(task, "task"));
    }

    @Override
    public <T> CompletableFuture<T> submit(Callable<T> task) {
        return submitTask(Objects.requireNonNull(task, "task"));
    }

    @Override
    public CompletableFuture<?> submit(Runnable task) {
        return submitTask(Objects.requireNonNull(task, "task"));
    }

    @Override
    public <T> CompletableFuture<T> submit(Runnable task, T result) {
        return submitTask(new CallTask.RunnableWithResult<>(Objects.requireNonNull(task, "task"), result));
    }

    @Override
    public void execute(Runnable command) {
        submitTask(Objects.requireNonNull(command, "command")).whenComplete((v, failure) -> {
            if (failure != null && !(failure instanceof CancellationException)) {
                Thread t = Thread.currentThread();
                Thread.UncaughtExceptionHandler handler = Thread.getDefaultUncaughtExceptionHandler();
                if (handler != null) {
                    handler.uncaughtException(t, failure);
                } else {
                    System.err.println("multiproc4j: a task given to execute() failed:");
                    failure.printStackTrace();
                }
            }
        });
    }

    private <T> CompletableFuture<T> submitTask(Object task) {
        if (shutdown) {
            throw new RejectedExecutionException("the executor is shut down and takes no new tasks");
        }
        List<Object> inputs = new ArrayList<>(1);
        inputs.add(task);
        byte[] encoded = null;
        if (engine.shipsTasks()) {
            encoded = encode(task, inputs);
        }
        var future = new TaskFuture<T>(engine);
        var job = new MapJob<T>(1, true, future, true);
        var batch = new BatchTask(call, inputs, 0, job, encoded);
        future.attach(batch);
        engine.execute(batch);
        return future;
    }

    private byte[] encode(Object task, List<Object> inputs) {
        Object checked = task instanceof CallTask.RunnableWithResult<?> r ? r.runnable() : task;
        if (!(checked instanceof Serializable)) {
            throw new IllegalArgumentException("a task given to a process executor must be serializable, and this "
                    + checked.getClass().getName() + " is not: write the task as a lambda in the submit call "
                    + "(it then is a SerializableCallable or SerializableRunnable), or make its class implement "
                    + "java.io.Serializable");
        }
        try {
            return codec.encode(inputs);
        } catch (NotSerializableException e) {
            throw new IllegalArgumentException("the task cannot be sent to a worker JVM: it captures a "
                    + e.getMessage() + ", which is not Serializable. Make that class implement "
                    + "java.io.Serializable, or capture only serializable values.", e);
        } catch (IOException | RuntimeException e) {
            throw new IllegalArgumentException("the task cannot be sent to a worker JVM: " + e, e);
        }
    }

    @Override
    public <T, R> Flow.Publisher<R> publish(SerializableFunction<? super T, ? extends R> fn, Iterable<? extends T> inputs) {
        return ScheduledPool.publisher(engine, codec, fn, inputs, 1, () -> {
            if (shutdown) {
                throw new RejectedExecutionException("the executor is shut down and takes no new tasks");
            }
        });
    }

    // ───────────────────────────── bulk ─────────────────────────────

    @Override
    public <T> List<Future<T>> invokeAll(Collection<? extends Callable<T>> tasks) throws InterruptedException {
        List<Future<T>> futures = submitAll(tasks);
        for (Future<T> f : futures) {
            try {
                f.get();
            } catch (ExecutionException | CancellationException e) {
                // reported through its future
            }
        }
        return futures;
    }

    @Override
    public <T> List<Future<T>> invokeAll(Collection<? extends Callable<T>> tasks, long timeout, TimeUnit unit)
            throws InterruptedException {
        long deadline = System.nanoTime() + unit.toNanos(timeout);
        List<Future<T>> futures = submitAll(tasks);
        for (Future<T> f : futures) {
            long left = deadline - System.nanoTime();
            try {
                if (left <= 0) {
                    break;
                }
                f.get(left, TimeUnit.NANOSECONDS);
            } catch (ExecutionException | CancellationException e) {
                // reported through its future
            } catch (TimeoutException e) {
                break;
            }
        }
        for (Future<T> f : futures) {
            f.cancel(true); // what has not finished by the deadline is cancelled, as ExecutorService says
        }
        return futures;
    }

    /**
     * Many tiny tasks cost a round trip each; on worker JVMs they go in chunks, as Python's
     * {@code executor.map(chunksize=...)} does, each task still with its own future.
     */
    private <T> List<Future<T>> submitAll(Collection<? extends Callable<T>> tasks) {
        int workers = Math.max(1, engine.workers());
        if (engine.shipsTasks() && workers < 1024 && tasks.size() >= 8L * workers) {
            return submitChunked(tasks, workers);
        }
        List<Future<T>> futures = new ArrayList<>(tasks.size());
        try {
            for (Callable<T> task : tasks) {
                futures.add(submit(task));
            }
        } catch (RuntimeException e) {
            futures.forEach(f -> f.cancel(true));
            throw e;
        }
        return futures;
    }

    private <T> List<Future<T>> submitChunked(Collection<? extends Callable<T>> tasks, int workers) {
        if (shutdown) {
            throw new RejectedExecutionException("the executor is shut down and takes no new tasks");
        }
        List<Object> all = new ArrayList<>(tasks.size());
        for (Callable<T> task : tasks) {
            if (!(Objects.requireNonNull(task, "task") instanceof Serializable)) {
                encode(task, List.of(task)); // throws, naming the task's class and the fix
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
        batches.forEach(engine::execute);
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
            return invokeAny(tasks, Long.MAX_VALUE, TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            throw new IllegalStateException("unreachable: no timeout", e);
        }
    }

    @Override
    public <T> T invokeAny(Collection<? extends Callable<T>> tasks, long timeout, TimeUnit unit)
            throws InterruptedException, ExecutionException, TimeoutException {
        if (tasks.isEmpty()) {
            throw new IllegalArgumentException("invokeAny needs at least one task");
        }
        long deadline = unit.toNanos(timeout) == Long.MAX_VALUE ? Long.MAX_VALUE : System.nanoTime() + unit.toNanos(timeout);
        var finished = new LinkedBlockingQueue<CompletableFuture<T>>();
        List<CompletableFuture<T>> futures = new ArrayList<>();
        try {
            for (Callable<T> task : tasks) {
                CompletableFuture<T> f = submit(task);
                futures.add(f);
                f.whenComplete((v, t) -> finished.add(f));
            }
            ExecutionException last = null;
            for (int i = 0; i < futures.size(); i++) {
                CompletableFuture<T> f = deadline == Long.MAX_VALUE ? finished.take()
                        : finished.poll(deadline - System.nanoTime(), TimeUnit.NANOSECONDS);
                if (f == null) {
                    throw new TimeoutException("no task of " + futures.size() + " finished successfully in time");
                }
                try {
                    return f.get();
                } catch (ExecutionException e) {
                    last = e;
                } catch (CancellationException e) {
                    last = new ExecutionException(e);
                }
            }
            throw last;
        } finally {
            for (CompletableFuture<T> f : futures) {
                f.cancel(true); // the losers
            }
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
        var cancelled = new CancellationException("the executor was shut down before this task started");
        for (Batch batch : engine.shutdownNow()) {
            for (Object task : batch.inputs()) {
                neverStarted.add(switch (task) {
                    case Runnable r -> r;
                    case CallTask.RunnableWithResult<?> r -> r.runnable();
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
        return neverStarted;
    }

    @Override
    public boolean isShutdown() {
        return shutdown;
    }

    @Override
    public boolean isTerminated() {
        return shutdown && engine.isTerminated();
    }

    @Override
    public boolean awaitTermination(long timeout, TimeUnit unit) throws InterruptedException {
        return engine.awaitTermination(Duration.ofNanos(unit.toNanos(timeout)));
    }
}
