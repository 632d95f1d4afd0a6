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
 * {@code cancel(false)} drops a task that has not started (it never runs, and counts as completed:
 * {@code shutdown()} then terminates without it). {@code cancel(true)} of a task running on a worker
 * JVM kills that worker and replaces it: the task really stops. Threads cannot be killed: a thread
 * executor interrupts the task and completes the future at once.
 *
 * <h2>Tasks that cannot travel</h2>
 * A process executor encodes each task in the calling thread. One that is not serializable, or
 * captures a value that is not, is refused at the call with a
 * {@link java.util.concurrent.RejectedExecutionException} ({@code Executor.execute}'s "cannot be
 * accepted for execution") that names the class and the fix; for {@code invokeAll}/{@code invokeAny}
 * nothing of the call is submitted. The result object of {@code submit(Runnable, result)} never
 * travels: the future completes with that very object.
 *
 * <h2>The {@code ExecutorService} contract</h2>
 * Every method follows it: {@code null} tasks or collections throw {@link NullPointerException},
 * {@code invokeAny} of no task {@link IllegalArgumentException}; submissions after
 * {@code shutdown()} are rejected; {@code invokeAll} returns when every future is done (with a
 * timeout, measured from the call, the unfinished ones are cancelled; a timeout of zero runs
 * nothing); {@code invokeAny} returns the first success and cancels the others; an interrupted
 * caller of {@code get}, {@code invokeAll} or {@code invokeAny} gets {@link InterruptedException}
 * (the tasks of that bulk call are cancelled, the executor goes on); {@code close()} waits for every
 * task and, if interrupted, calls {@code shutdownNow()}. Once {@code awaitTermination} returns
 * {@code true}, every future is done.
 *
 * <h2>ExecutorCompletionService and other JDK wrappers</h2>
 * {@code new ExecutorCompletionService<>(executor)} works as is, for process executors too: the
 * completion service asks the executor for its futures ({@code newTaskFor}), the serializable task
 * runs in a worker, and the completion service's own (unserializable) wrapper runs in this JVM
 * when the task is done, queuing the future. Other JDK wrappers cannot be opened: a process
 * executor refuses {@code CompletableFuture.runAsync(task, executor)} or a {@code FutureTask} given to
 * {@code execute}, saying to submit the task itself (its future is already a {@code CompletableFuture}).
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
     * @throws java.util.concurrent.RejectedExecutionException after shutdown, or when the task
     *     captures a value that is not serializable (the message names its class)
     */
    <T> CompletableFuture<T> submit(SerializableCallable<T> task);

    /**
     * @param task the task, shipped to a worker
     * @return its future, completed with {@code null}
     * @throws java.util.concurrent.RejectedExecutionException after shutdown, or when the task
     *     captures a value that is not serializable (the message names its class)
     */
    CompletableFuture<Void> submit(SerializableRunnable task);

    /**
     * {@inheritDoc}
     *
     * @throws java.util.concurrent.RejectedExecutionException after shutdown, or, for a process
     *     executor, when the task is not serializable (write it as a lambda in place, or make its
     *     class implement {@link java.io.Serializable})
     */
    @Override
    <T> CompletableFuture<T> submit(Callable<T> task);

    /**
     * {@inheritDoc}
     *
     * @throws java.util.concurrent.RejectedExecutionException after shutdown, or, for a process
     *     executor, when the task is not serializable
     */
    @Override
    CompletableFuture<?> submit(Runnable task);

    /**
     * {@inheritDoc}
     *
     * @throws java.util.concurrent.RejectedExecutionException after shutdown, or, for a process
     *     executor, when the task is not serializable (the result need not be: it stays here)
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
