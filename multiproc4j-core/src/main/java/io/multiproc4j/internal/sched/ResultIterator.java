package io.multiproc4j.internal.sched;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;

/**
 * The lazy calls, {@code imap} and {@code imapUnordered}: reads the input as results are taken.
 *
 * <h2>Back-pressure</h2>
 * At most {@code window} batches are open (submitted and not fully taken by the consumer). The
 * input iterator is read only by the consuming thread, inside {@link #hasNext()}/{@link #next()},
 * so a user's iterator need not be thread-safe, and an exception it throws reaches the consumer as
 * is. Memory is bounded by {@code window × chunkSize} inputs and results, whatever the input length.
 *
 * <h2>Order</h2>
 * Ordered: results are taken batch by batch in submission order. Unordered: every result goes to
 * one queue as it arrives. Either way a failure is terminal: it is thrown in its place (after the
 * results before it, in the ordered case), the batches still open are cancelled, and the iteration
 * ends.
 */
final class ResultIterator<R> implements Iterator<R>, Job {
    /** Stands in the results for a failed task. */
    private record Failed(RuntimeException failure) {}

    private final Iterator<?> input;
    private final FunctionSpec function;
    private final int chunkSize;
    private final int window;
    private final boolean ordered;
    private final Consumer<BatchTask> submit;

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition arrived = lock.newCondition();
    // guarded by lock:
    private final ArrayDeque<OpenBatch> open = new ArrayDeque<>();
    private final ArrayDeque<Object> unorderedResults = new ArrayDeque<>();
    private int openBatches;
    private RuntimeException failure;
    private boolean cancelled;
    // consumer thread only:
    private long nextIndex;
    private boolean inputDone;
    private boolean finished;

    ResultIterator(Iterator<?> input, FunctionSpec function, int chunkSize, int window, boolean ordered,
                   Consumer<BatchTask> submit) {
        this.input = input;
        this.function = function;
        this.chunkSize = chunkSize;
        this.window = window;
        this.ordered = ordered;
        this.submit = submit;
    }

    /** Per-batch result slots, for the ordered case and for counting what is open. */
    private static final class OpenBatch {
        final BatchTask task;
        final Object[] results;
        int ready;
        int taken;
        int failedAt = -1;
        RuntimeException failure;

        OpenBatch(BatchTask task) {
            this.task = task;
            this.results = new Object[task.size()];
        }
    }

    private final java.util.Map<BatchTask, OpenBatch> byTask = new java.util.IdentityHashMap<>();

    /** Reads inputs and submits batches until the window is full or the input ends. */
    private void feed() {
        while (!inputDone) {
            lock.lock();
            try {
                if (openBatches >= window || failure != null) {
                    return;
                }
            } finally {
                lock.unlock();
            }
            List<Object> chunk = new ArrayList<>(Math.min(chunkSize, 1024));
            while (chunk.size() < chunkSize && input.hasNext()) {
                chunk.add(input.next());
            }
            if (!input.hasNext()) {
                inputDone = true;
            }
            if (chunk.isEmpty()) {
                return;
            }
            var task = new BatchTask(function, chunk, nextIndex, this);
            nextIndex += chunk.size();
            lock.lock();
            try {
                OpenBatch ob = new OpenBatch(task);
                byTask.put(task, ob);
                open.addLast(ob);
                openBatches++;
            } finally {
                lock.unlock();
            }
            try {
                submit.accept(task);
            } catch (RejectedExecutionException e) {
                inputDone = true;
                task.fail(0, new IllegalStateException(
                        "the pool was closed before this imap had read all its input; iterate before closing the pool", e));
            }
        }
    }

    @Override
    public boolean hasNext() {
        if (finished) {
            return false;
        }
        feed();
        lock.lock();
        try {
            boolean more = ordered ? !open.isEmpty() : openBatches > 0 || !unorderedResults.isEmpty();
            if (!more) {
                finished = true;
            }
            return more;
        } finally {
            lock.unlock();
        }
    }

    @Override
    @SuppressWarnings("unchecked")
    public R next() {
        if (!hasNext()) {
            throw new NoSuchElementException("no more results");
        }
        Object result;
        lock.lock();
        try {
            result = ordered ? takeOrdered() : takeUnordered();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            cancelLocked();
            finished = true;
            throw new java.util.concurrent.CancellationException("interrupted while waiting for the next result");
        } finally {
            lock.unlock();
        }
        if (result instanceof Failed failed) {
            finished = true;
            throw failed.failure();
        }
        feed();
        return (R) result;
    }

    private Object takeOrdered() throws InterruptedException {
        OpenBatch head = open.peekFirst();
        while (head.taken >= head.ready && head.failure == null) {
            arrived.await();
        }
        if (head.failure != null && (head.taken >= head.ready || head.taken >= head.failedAt)) {
            cancelLocked();
            return new Failed(head.failure);
        }
        Object result = head.results[head.taken];
        head.results[head.taken++] = null;
        if (head.taken == head.results.length) {
            open.removeFirst();
            byTask.remove(head.task);
            openBatches--;
        }
        return result;
    }

    private Object takeUnordered() throws InterruptedException {
        while (unorderedResults.isEmpty()) {
            arrived.await();
        }
        Object result = unorderedResults.removeFirst();
        if (result instanceof Failed) {
            cancelLocked();
        }
        return result;
    }

    private void cancelLocked() {
        cancelled = true;
        open.clear();
        byTask.clear();
        openBatches = 0;
        unorderedResults.clear();
    }

    @Override
    public boolean isCancelled() {
        lock.lock();
        try {
            return cancelled;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void onResults(BatchTask batch, int offset, List<?> values) {
        lock.lock();
        try {
            OpenBatch ob = byTask.get(batch);
            if (ob == null) {
                return; // cancelled
            }
            for (int i = 0; i < values.size(); i++) {
                ob.results[offset + i] = values.get(i);
            }
            ob.ready = offset + values.size();
            if (!ordered) {
                unorderedResults.addAll(values);
                java.util.Arrays.fill(ob.results, offset, offset + values.size(), null);
                if (ob.ready == ob.results.length) {
                    byTask.remove(batch);
                    open.remove(ob);
                    openBatches--;
                }
            }
            arrived.signalAll();
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void onFailure(BatchTask batch, int offset, RuntimeException error) {
        lock.lock();
        try {
            OpenBatch ob = byTask.get(batch);
            if (ob == null) {
                return;
            }
            if (failure == null) {
                failure = error;
            }
            ob.failure = error;
            ob.failedAt = offset;
            if (!ordered) {
                unorderedResults.addLast(new Failed(error));
            }
            arrived.signalAll();
        } finally {
            lock.unlock();
        }
    }
}
