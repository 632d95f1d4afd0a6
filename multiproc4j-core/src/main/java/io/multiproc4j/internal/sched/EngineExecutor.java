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

    private <T> List<Future<T>> submitAll(Collection<? extends Callable<T>> tasks) {
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
        List<Runnable> neverStarted = new ArrayList<>();
        var cancelled = new CancellationException("the executor was shut down before this task started");
        for (Batch batch : engine.shutdownNow()) {
            Object task = batch.inputs().getFirst();
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
