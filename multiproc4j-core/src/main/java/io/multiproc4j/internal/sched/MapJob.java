package io.multiproc4j.internal.sched;

import io.multiproc4j.TaskFailedException;
import io.multiproc4j.internal.codec.SegmentedList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An eager call ({@code map}, {@code mapAsync}, {@code applyAsync}): a results list filled in place by
 * batches in any order, and a future completed when the last result lands or at the first failure.
 * Writers publish their slots through the countdown: the thread that takes it to zero sees them all.
 *
 * <p>The results are a {@link SegmentedList} handed to the caller as it is: no final copy of a
 * million references, and no humongous array for G1 to keep (see its overview). A single result
 * ({@code applyAsync}) is kept in a field.
 *
 * <p>The future is a {@link ResultFuture}: completed right on the engine's thread, with every
 * dependent stage sent to the callback executor, so user code chained to it cannot stall a worker's
 * reader.
 */
final class MapJob<R> implements Job {
    /** The results of a map; null for a single call. */
    private final SegmentedList<Object> results;
    /** The result of a single call, published by the countdown. */
    private Object singleResult;
    private final AtomicInteger remaining;
    private final AtomicBoolean done = new AtomicBoolean();
    private final CompletableFuture<R> future;
    private final boolean single;
    private final boolean unwrapTaskExceptions;

    MapJob(int size, boolean single) {
        this(size, single, new ResultFuture<>(), false);
    }

    /**
     * @param unwrapTaskExceptions fail the future with the task's own exception rather than the
     *                             {@link TaskFailedException} around it (executors, as ExecutorService users expect)
     */
    MapJob(int size, boolean single, CompletableFuture<R> future, boolean unwrapTaskExceptions) {
        this.results = single ? null : new SegmentedList<>(size);
        this.remaining = new AtomicInteger(size);
        this.single = single;
        this.future = future;
        this.unwrapTaskExceptions = unwrapTaskExceptions;
        if (size == 0) {
            done.set(true);
            complete();
        }
    }

    CompletableFuture<R> future() {
        return future;
    }

    @Override
    public boolean isCancelled() {
        // done early means failed; a future done without us means the caller cancelled it
        return done.get() || future.isDone();
    }

    @Override
    public void onResults(BatchTask batch, int offset, List<?> values) {
        int base = Math.toIntExact(batch.firstIndex()) + offset;
        if (single) {
            singleResult = values.getFirst();
        } else {
            results.putAll(base, values);
        }
        if (remaining.addAndGet(-values.size()) == 0 && done.compareAndSet(false, true)) {
            complete();
        }
    }

    @SuppressWarnings("unchecked")
    private void complete() {
        future.complete((R) (single ? singleResult : results));
    }

    @Override
    public void onFailure(BatchTask batch, int offset, RuntimeException failure) {
        fail(failure);
    }

    void fail(RuntimeException failure) {
        if (done.compareAndSet(false, true)) {
            Throwable reported = failure;
            if (unwrapTaskExceptions && failure.getClass() == TaskFailedException.class && failure.getCause() != null) {
                reported = failure.getCause();
            }
            future.completeExceptionally(reported);
        }
    }
}
