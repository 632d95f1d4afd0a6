package io.multiproc4j.ipc;

import io.multiproc4j.internal.ipc.RingLayout;
import io.multiproc4j.internal.shm.Segment;
import java.io.Serial;
import java.lang.ref.Reference;
import java.time.Duration;

/**
 * A {@link ProcessQueue} that counts unfinished tasks: Python's {@code JoinableQueue}. Every put
 * adds one; a consumer calls {@link #taskDone()} once per element it took, after processing it;
 * {@link #join()} waits until the count is back to zero.
 *
 * {@snippet :
 * JoinableProcessQueue<Job> jobs = JoinableProcessQueue.create(1_000);
 * // consumers, in any processes: Job job = jobs.take(); process(job); jobs.taskDone();
 * for (Job job : work) jobs.put(job);
 * jobs.join();                         // every job put so far has been processed
 * }
 *
 * <p>{@code shutdown(true)} counts the dropped elements as done. The count lives in the queue's
 * shared memory, so {@code taskDone()} and {@code join()} work from every process. It stays exact
 * when a producer is killed at any point of its put: an element is counted exactly when it is in
 * the queue (the next process to take the queue's lock over repairs the count). A consumer killed
 * after taking an element takes it with it, never marked done: {@code join()} then waits for it,
 * so give it a timeout where consumers may die.
 *
 * @param <E> the element type
 */
public final class JoinableProcessQueue<E> extends ProcessQueue<E> {
    @Serial
    private static final long serialVersionUID = 1L;

    JoinableProcessQueue(Segment segment) {
        super(segment);
    }

    /**
     * @param capacity the most elements it holds, {@code >= 1}
     * @param <E>      the element type
     * @return a new empty queue, owned by this process
     * @throws IllegalArgumentException when {@code capacity < 1}
     */
    public static <E> JoinableProcessQueue<E> create(int capacity) {
        return create(capacity, DEFAULT_BUFFER_BYTES);
    }

    /**
     * @param capacity    the most elements it holds, {@code >= 1}
     * @param bufferBytes bytes of encoded elements its ring holds (a power of two from 4 KiB to 1 GiB)
     * @param <E>         the element type
     * @return a new empty queue, owned by this process
     * @throws IllegalArgumentException on a bad capacity or buffer size
     */
    public static <E> JoinableProcessQueue<E> create(int capacity, long bufferBytes) {
        return new JoinableProcessQueue<>(createSegment(null, capacity, bufferBytes, RingLayout.KIND_JOINABLE_QUEUE));
    }

    /**
     * Marks one taken element as processed.
     *
     * @throws IllegalStateException when called more times than elements were put
     */
    public void taskDone() {
        ring().taskDone();
    }

    /** @return elements put and not yet marked done */
    public int unfinishedTasks() {
        return ring().unfinished();
    }

    /**
     * Waits until every element put so far has been marked done.
     *
     * @throws InterruptedException when interrupted while waiting
     */
    public void join() throws InterruptedException {
        try {
            ring().join(-1);
        } finally {
            Reference.reachabilityFence(this);
        }
    }

    /**
     * @param timeout the most to wait
     * @return whether every element put so far has been marked done (false: timed out)
     * @throws InterruptedException when interrupted while waiting
     */
    public boolean join(Duration timeout) throws InterruptedException {
        try {
            return ring().join(Math.max(0, timeout.toNanos()));
        } finally {
            Reference.reachabilityFence(this);
        }
    }
}
