package io.multiproc4j.spi;

import io.multiproc4j.BrokenPoolException;
import java.time.Duration;

/**
 * Where a {@link io.multiproc4j.Pool}'s chunks run: threads of this JVM, worker JVMs, members of a
 * cluster. The pool does the chunking, ordering, back-pressure and bookkeeping of calls; an engine
 * only runs {@link Batch}es and reports every one of them, exactly once, as delivered or failed.
 *
 * <h2>Contract</h2>
 * <ul>
 *   <li>{@link #execute} never blocks on work: it queues the batch.</li>
 *   <li>Every accepted batch ends: all its results {@linkplain Batch#deliver delivered}, or
 *       {@linkplain Batch#fail failed} — whatever happens to workers, and after
 *       {@link #shutdownNow()} too. This is what makes a pool unable to hang.</li>
 *   <li>A batch that {@linkplain Batch#isCancelled is cancelled} before it starts is dropped
 *       silently.</li>
 * </ul>
 */
public interface Engine {

    /** @return how many batches run at once; {@link Integer#MAX_VALUE} for no bound */
    int workers();

    /**
     * @return {@code true} when functions and values cross a process boundary, so they must be
     *     serializable (the pool then checks them at the call)
     */
    boolean shipsTasks();

    /**
     * Queues a batch.
     *
     * @param batch the batch
     * @throws java.util.concurrent.RejectedExecutionException after {@link #shutdown()}
     */
    void execute(Batch batch);

    /** Refuses new batches, finishes the accepted ones, then stops the workers. Does not wait. */
    void shutdown();

    /**
     * Stops now: running batches fail with {@link java.util.concurrent.CancellationException}
     * (worker JVMs are killed, threads interrupted), and the batches that never started are returned
     * untouched, for the caller to fail or hand back.
     *
     * @return the batches that never started
     */
    java.util.List<Batch> shutdownNow();

    /**
     * Stops one batch: dropped if it has not started; if it is running, its worker JVM is killed
     * and replaced (a thread is interrupted). Either way it fails with
     * {@link java.util.concurrent.CancellationException}. Does nothing if it already ended.
     *
     * @param batch a batch given to {@link #execute}
     */
    void interrupt(Batch batch);

    /**
     * @param timeout how long to wait at most
     * @return {@code true} when every worker has stopped
     * @throws InterruptedException if interrupted
     */
    boolean awaitTermination(Duration timeout) throws InterruptedException;

    /** @return {@code true} when every worker has stopped */
    boolean isTerminated();

    /** @return why workers cannot be started, or {@code null} while they can */
    BrokenPoolException brokenReason();

    /**
     * @return what this engine has done so far; an engine that does not count returns zeros
     */
    default io.multiproc4j.PoolStats stats() {
        return new io.multiproc4j.PoolStats(0, java.util.Map.of(), 0, 0, 0, 0, 0);
    }
}
