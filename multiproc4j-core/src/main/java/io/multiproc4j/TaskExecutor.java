package io.multiproc4j;

import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Flow;

/**
 * An {@link ExecutorService} whose futures are {@link CompletableFuture}s, on worker JVMs
 * ({@link ProcessPoolExecutor}) or threads ({@link ThreadExecutor}).
 *
 * {@snippet :
 * try (TaskExecutor executor = ProcessPoolExecutor.create(4)) {
 *     CompletableFuture<Long> a = executor.submit(() -> fib(40));     // a SerializableCallable
 *     CompletableFuture<Long> b = executor.submit(() -> fib(41));
 *     Futures.wait(List.of(a, b), Futures.FIRST_COMPLETED, Duration.ofSeconds(5));
 *     for (CompletableFuture<Long> done : Futures.asCompleted(List.of(a, b))) { ... }
 * }
 * }
 *
 * <h2>Results and failures</h2>
 * As with any {@code ExecutorService}, a task's own exception is the cause of the
 * {@link java.util.concurrent.ExecutionException} (the same type and message, with the remote
 * stack; {@link RemoteTaskException} when it cannot travel). When the worker itself is lost the
 * cause is a {@link WorkerCrashedException} or {@link TaskTimeoutException}; what happens to the
 * other tasks is the executor's {@link CrashPolicy}.
 *
 * <h2>Cancellation</h2>
 * {@code cancel(false)} drops a task that has not started. {@code cancel(true)} of a task running
 * on a worker JVM kills that worker and replaces it: the task really stops. Threads cannot be
 * killed: a thread executor interrupts the task and completes the future at once.
 *
 * <h2>Workers</h2>
 * A process executor starts workers on demand, up to its maximum, and reuses idle ones (three
 * sequential {@code submit().get()} use one worker); with
 * {@link PoolBuilder#idleWorkerTimeout} it retires workers idle that long.
 */
public interface TaskExecutor extends ExecutorService {

    /**
     * @param task the task, shipped to a worker
     * @param <T>  the result type
     * @return its future; {@code cancel(true)} stops it even if it is running
     */
    <T> CompletableFuture<T> submit(SerializableCallable<T> task);

    /**
     * @param task the task, shipped to a worker
     * @return its future, completed with {@code null}
     */
    CompletableFuture<Void> submit(SerializableRunnable task);

    /**
     * {@inheritDoc}
     *
     * @throws IllegalArgumentException for a process executor, when the task is not serializable
     *     (write it as a lambda in place, or make its class implement {@link java.io.Serializable})
     */
    @Override
    <T> CompletableFuture<T> submit(Callable<T> task);

    /**
     * {@inheritDoc}
     *
     * @throws IllegalArgumentException for a process executor, when the task is not serializable
     */
    @Override
    CompletableFuture<?> submit(Runnable task);

    /**
     * {@inheritDoc}
     *
     * @throws IllegalArgumentException for a process executor, when the task or result is not serializable
     */
    @Override
    <T> CompletableFuture<T> submit(Runnable task, T result);

    /**
     * Runs {@code fn} over the inputs as results are requested: the subscriber's demand
     * ({@code request(n)}) decides how much input is read, so back-pressure holds end to end.
     * Results come in input order; each subscription runs the inputs anew.
     *
     * @param fn     the function
     * @param inputs the inputs
     * @param <T>    the input type
     * @param <R>    the result type
     * @return a cold publisher of the results
     */
    <T, R> Flow.Publisher<R> publish(SerializableFunction<? super T, ? extends R> fn, Iterable<? extends T> inputs);

    /** @return the most tasks that run at once (threads or worker JVMs) */
    int maxWorkers();
}
