package io.multiproc4j.cluster.internal;

import com.hazelcast.collection.IQueue;
import java.util.AbstractQueue;
import java.util.Collection;
import java.util.Iterator;
import java.util.Objects;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * A Hazelcast {@link IQueue} whose blocking calls can be interrupted without losing an element.
 * {@code IQueue.take()} interrupted in the client leaves its poll running on the member, which then
 * removes an element nobody receives. Here every blocking call is a loop of non-blocking tries
 * with a short back-off (at most 10 ms between tries), checking for the interrupt between them, so
 * an element is removed only by a call that returns it.
 *
 * @param <E> element type
 */
public final class InterruptibleQueue<E> extends AbstractQueue<E> implements BlockingQueue<E> {
    private static final long MAX_PAUSE_NANOS = 10_000_000;
    private final IQueue<E> queue;

    /** @param queue the Hazelcast queue */
    public InterruptibleQueue(IQueue<E> queue) {
        this.queue = queue;
    }

    private static long pause(long pause) throws InterruptedException {
        LockSupport.parkNanos(pause);
        if (Thread.interrupted()) {
            throw new InterruptedException("interrupted while waiting on a cluster queue");
        }
        return Math.min(pause * 2, MAX_PAUSE_NANOS);
    }

    @Override
    public boolean offer(E e) {
        return queue.offer(Objects.requireNonNull(e, "element"));
    }

    @Override
    public void put(E e) throws InterruptedException {
        offer(e, Long.MAX_VALUE, TimeUnit.NANOSECONDS);
    }

    @Override
    public boolean offer(E e, long timeout, TimeUnit unit) throws InterruptedException {
        Objects.requireNonNull(e, "element");
        if (Thread.interrupted()) {
            throw new InterruptedException("interrupted before offering to a cluster queue");
        }
        long deadline = System.nanoTime() + unit.toNanos(timeout);
        long pause = 100_000;
        while (!queue.offer(e)) {
            if (System.nanoTime() - deadline >= 0) {
                return false;
            }
            pause = pause(pause);
        }
        return true;
    }

    @Override
    public E take() throws InterruptedException {
        return poll(Long.MAX_VALUE, TimeUnit.NANOSECONDS);
    }

    @Override
    public E poll(long timeout, TimeUnit unit) throws InterruptedException {
        if (Thread.interrupted()) {
            throw new InterruptedException("interrupted before polling a cluster queue");
        }
        long deadline = System.nanoTime() + unit.toNanos(timeout);
        long pause = 100_000;
        while (true) {
            E e = queue.poll();
            if (e != null) {
                return e;
            }
            if (System.nanoTime() - deadline >= 0) {
                return null;
            }
            pause = pause(pause);
        }
    }

    @Override
    public E poll() {
        return queue.poll();
    }

    @Override
    public E peek() {
        return queue.peek();
    }

    @Override
    public int size() {
        return queue.size();
    }

    @Override
    public Iterator<E> iterator() {
        return queue.iterator();
    }

    @Override
    public int remainingCapacity() {
        return queue.remainingCapacity();
    }

    @Override
    public boolean contains(Object o) {
        return queue.contains(o);
    }

    @Override
    public boolean remove(Object o) {
        return queue.remove(o);
    }

    @Override
    public int drainTo(Collection<? super E> c) {
        return queue.drainTo(c);
    }

    @Override
    public int drainTo(Collection<? super E> c, int maxElements) {
        return queue.drainTo(c, maxElements);
    }
}
