package io.multiproc4j;

import io.multiproc4j.internal.sched.ScheduledPool;
import java.time.Duration;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Runs a function over many inputs on threads or on worker processes (separate JVMs), with the
 * semantics of Python's {@code multiprocessing.Pool} and without its hangs.
 *
 * {@snippet :
 * try (Pool pool = Pool.processes(4)) {
 *     List<Integer> out = pool.map(x -> x + 1, inputs);                 // ordered
 *     Iterator<Integer> lazy = pool.imap(x -> x * 2, inputs, 1_000);    // ordered, lazy, bounded memory
 *     CompletableFuture<Integer> f = pool.applyAsync(x -> x * x, 12);   // one task
 * }
 * }
 *
 * <h2>Chunks</h2>
 * Inputs travel to workers in chunks. {@code map} defaults to Python's chunk size,
 * {@code ceil(n / (4 × workers))}; {@code imap}, {@code imapUnordered} and {@code starmap}'s lazy
 * forms default to 1. A larger chunk means fewer round trips; a smaller one, better balance.
 *
 * <h2>Failures</h2>
 * A task that throws fails its call with {@link TaskFailedException} (the cause is the original
 * exception). A worker JVM that dies fails only the chunk it was running, with
 * {@link WorkerCrashedException}; chunks it had been sent but had not started run elsewhere; the
 * worker is replaced. A task past {@link PoolBuilder#taskTimeout} fails with
 * {@link TaskTimeoutException} and its worker is killed and replaced. Nothing hangs. A lambda that
 * captures something not serializable is refused at the call, naming the captured class.
 *
 * <h2>States</h2>
 * <pre>
 *   RUNNING ──close()──► CLOSING ──accepted work done, workers stopped──► TERMINATED
 *      │                    │                                                 ▲
 *      ├──terminate()───────┼────────────────────────────────────────────────┤
 *      │                    │                                                 │
 *      └──workers cannot start──► BROKEN ──close() / terminate()──────────────┘
 * </pre>
 * <ul>
 *   <li>RUNNING: accepts calls.</li>
 *   <li>CLOSING: {@link #close()} was called; calls are refused with {@link IllegalStateException};
 *       accepted chunks finish, then workers stop.</li>
 *   <li>TERMINATED: no worker is left. {@link #terminate()} gets here as soon as its workers are
 *       gone: work not finished fails with {@link java.util.concurrent.CancellationException}.</li>
 *   <li>BROKEN: workers could not be started; every waiter and every later call gets
 *       {@link BrokenPoolException} with the reason.</li>
 * </ul>
 *
 * <p>A pool is safe to use from many threads at once; calls from different threads share the
 * workers in the order they were made.
 */
public interface Pool extends AutoCloseable {

    /**
     * @param threads the number of platform threads, at least 1
     * @return a pool of that many threads in this JVM
     */
    static Pool threads(int threads) {
        return builder().threads(threads).build();
    }

    /** @return a pool that runs each chunk on its own virtual thread, for blocking I/O work */
    static Pool virtualThreads() {
        return builder().virtualThreads().build();
    }

    /**
     * @param processes the number of worker JVMs, at least 1
     * @return a pool of that many worker JVMs with default options
     */
    static Pool processes(int processes) {
        return builder().processes(processes).build();
    }

    /** @return a pool with one worker JVM per processor this JVM may use */
    static Pool processes() {
        return builder().processes(defaultWorkers()).build();
    }

    /** @return a builder for pools with options (recycling, timeouts, retries, initializer, ...) */
    static PoolBuilder builder() {
        return new PoolBuilder();
    }

    /**
     * @return the processors this JVM may use (cgroup- and affinity-aware), the default number of
     *     workers
     */
    static int defaultWorkers() {
        return Runtime.getRuntime().availableProcessors();
    }

    /** @return how many tasks run at once: threads or worker JVMs */
    int workers();

    /** @return where the pool is in its life */
    PoolState state();

    /**
     * Applies {@code fn} to every input and returns the results in input order. Blocks until all are
     * done. Fails with the first {@link TaskFailedException}; chunks of this call not yet started are
     * then dropped.
     *
     * @param fn     the function, shipped to workers
     * @param inputs the inputs, read in this thread before any task starts
     * @param <T>    the input type
     * @param <R>    the result type
     * @return the results, in input order
     */
    default <T, R> List<R> map(SerializableFunction<? super T, ? extends R> fn, Iterable<? extends T> inputs) {
        return map(fn, inputs, 0);
    }

    /**
     * As {@link #map(SerializableFunction, Iterable)}, with an explicit chunk size.
     *
     * @param fn        the function, shipped to workers
     * @param inputs    the inputs
     * @param chunkSize inputs per chunk, at least 1; 0 chooses Python's default
     * @param <T>       the input type
     * @param <R>       the result type
     * @return the results, in input order
     */
    <T, R> List<R> map(SerializableFunction<? super T, ? extends R> fn, Iterable<? extends T> inputs, int chunkSize);

    /**
     * As {@link #map(SerializableFunction, Iterable)}, without blocking.
     *
     * @param fn     the function
     * @param inputs the inputs, read in this thread before this method returns
     * @param <T>    the input type
     * @param <R>    the result type
     * @return a future of the results in input order
     */
    default <T, R> CompletableFuture<List<R>> mapAsync(SerializableFunction<? super T, ? extends R> fn,
                                                      Iterable<? extends T> inputs) {
        return mapAsync(fn, inputs, 0);
    }

    /**
     * As {@link #mapAsync(SerializableFunction, Iterable)}, with an explicit chunk size.
     *
     * @param fn        the function
     * @param inputs    the inputs
     * @param chunkSize inputs per chunk, at least 1; 0 chooses Python's default
     * @param <T>       the input type
     * @param <R>       the result type
     * @return a future of the results in input order; cancelling it drops chunks not yet started
     */
    <T, R> CompletableFuture<List<R>> mapAsync(SerializableFunction<? super T, ? extends R> fn,
                                               Iterable<? extends T> inputs, int chunkSize);

    /**
     * Lazy, ordered map: inputs are read as results are taken, with a bounded number of chunks in
     * flight, so memory stays flat however long the input. Chunk size 1.
     *
     * @param fn     the function
     * @param inputs the inputs, read by the thread that iterates the results
     * @param <T>    the input type
     * @param <R>    the result type
     * @return the results in input order; a failed task throws from {@code next()} in its place
     *     and ends the iteration
     */
    default <T, R> Iterator<R> imap(SerializableFunction<? super T, ? extends R> fn, Iterable<? extends T> inputs) {
        return imap(fn, inputs, 1);
    }

    /**
     * As {@link #imap(SerializableFunction, Iterable)}, with an explicit chunk size.
     *
     * @param fn        the function
     * @param inputs    the inputs
     * @param chunkSize inputs per chunk, at least 1
     * @param <T>       the input type
     * @param <R>       the result type
     * @return the results in input order
     */
    <T, R> Iterator<R> imap(SerializableFunction<? super T, ? extends R> fn, Iterable<? extends T> inputs, int chunkSize);

    /**
     * As {@link #imap(SerializableFunction, Iterable)}, but results come in the order they finish.
     *
     * @param fn     the function
     * @param inputs the inputs
     * @param <T>    the input type
     * @param <R>    the result type
     * @return the results in completion order
     */
    default <T, R> Iterator<R> imapUnordered(SerializableFunction<? super T, ? extends R> fn,
                                             Iterable<? extends T> inputs) {
        return imapUnordered(fn, inputs, 1);
    }

    /**
     * As {@link #imapUnordered(SerializableFunction, Iterable)}, with an explicit chunk size.
     *
     * @param fn        the function
     * @param inputs    the inputs
     * @param chunkSize inputs per chunk, at least 1
     * @param <T>       the input type
     * @param <R>       the result type
     * @return the results in completion order
     */
    <T, R> Iterator<R> imapUnordered(SerializableFunction<? super T, ? extends R> fn,
                                     Iterable<? extends T> inputs, int chunkSize);

    /**
     * Applies a two-argument function to argument pairs: {@code starmap((a, b) -> a * b,
     * List.of(List.of(2, 3), List.of(4, 5)))} gives {@code [6, 20]}.
     *
     * The argument type comes from the pairs, so the lambda needs no declared types; pairs of two
     * different types give their common supertype (declare the lambda's types, or cast).
     *
     * @param fn       the function
     * @param argPairs lists of exactly two arguments each
     * @param <T>      the arguments' type
     * @param <R>      the result type
     * @return the results in input order
     * @throws IllegalArgumentException when an element is not a list of two
     */
    <T, R> List<R> starmap(SerializableBiFunction<? super T, ? super T, ? extends R> fn,
                           Iterable<? extends List<? extends T>> argPairs);

    /**
     * Runs one task.
     *
     * @param fn  the function
     * @param arg its argument
     * @param <T> the argument type
     * @param <R> the result type
     * @return a future of the result; it fails with {@link TaskFailedException} and its kin
     */
    <T, R> CompletableFuture<R> applyAsync(SerializableFunction<? super T, ? extends R> fn, T arg);

    /**
     * Results as a {@link java.util.concurrent.Flow.Publisher}: the subscriber's demand
     * ({@code request(n)}) decides how much input is read, so back-pressure holds end to end; Reactor,
     * RxJava and Kotlin flows take it as is. Results come in input order; each subscription reads the
     * inputs anew. Chunk size 1.
     *
     * @param fn     the function
     * @param inputs the inputs
     * @param <T>    the input type
     * @param <R>    the result type
     * @return a cold publisher of the results; a failed task ends it with {@code onError}
     */
    default <T, R> java.util.concurrent.Flow.Publisher<R> publish(SerializableFunction<? super T, ? extends R> fn,
                                                                  Iterable<? extends T> inputs) {
        return publish(fn, inputs, 1);
    }

    /**
     * As {@link #publish(SerializableFunction, Iterable)}, with an explicit chunk size.
     *
     * @param fn        the function
     * @param inputs    the inputs
     * @param chunkSize inputs per chunk, at least 1
     * @param <T>       the input type
     * @param <R>       the result type
     * @return a cold publisher of the results
     */
    <T, R> java.util.concurrent.Flow.Publisher<R> publish(SerializableFunction<? super T, ? extends R> fn,
                                                          Iterable<? extends T> inputs, int chunkSize);

    /**
     * Refuses new work, lets accepted work finish, stops the workers and waits for them. This is
     * what try-with-resources calls. Calling it again does nothing.
     */
    @Override
    void close();

    /**
     * Stops now: work not finished fails with {@link java.util.concurrent.CancellationException},
     * worker JVMs are killed, worker threads interrupted. Returns once the workers have stopped
     * (killed JVMs exit within milliseconds; it waits at most 10 seconds, for a thread that ignores
     * its interrupt): {@link #state()} is {@link PoolState#TERMINATED} only when no worker is left.
     */
    void terminate();

    /**
     * @return what this pool has done so far: workers started and exited (by cause), recycled,
     *     chunks and tasks done, failed, retried; a snapshot, cheap to take
     */
    PoolStats stats();

    /**
     * Waits until the pool is {@link PoolState#TERMINATED} (or broken and cleaned up).
     *
     * @param timeout how long to wait at most
     * @return {@code true} if the pool terminated in time
     * @throws InterruptedException if interrupted while waiting
     */
    boolean awaitTermination(Duration timeout) throws InterruptedException;
}
