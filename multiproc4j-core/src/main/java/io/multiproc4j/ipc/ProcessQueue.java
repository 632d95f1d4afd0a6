package io.multiproc4j.ipc;

import io.multiproc4j.internal.ipc.Attachments;
import io.multiproc4j.internal.ipc.MessageRing;
import io.multiproc4j.internal.ipc.RingLayout;
import io.multiproc4j.internal.shm.Segment;
import io.multiproc4j.spi.Codec;
import java.io.IOException;
import java.io.InvalidObjectException;
import java.io.NotSerializableException;
import java.io.ObjectInputStream;
import java.io.Serial;
import java.io.Serializable;
import java.lang.ref.Reference;
import java.util.AbstractQueue;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Iterator;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A bounded {@link BlockingQueue} shared by processes: any number of producers and consumers, in
 * any processes of this machine. Python's {@code multiprocessing.Queue}, without its feeder thread
 * (a put is in the shared memory when it returns, so a producer can exit at once and nothing it
 * put is lost) and with Python 3.13's {@code shutdown(immediate)}.
 *
 * {@snippet :
 * try (Pool pool = Pool.processes(2); ProcessQueue<String> queue = ProcessQueue.create(1_000)) {
 *     pool.applyAsync(q -> { q.put("from a worker"); return null; }, queue);
 *     String first = queue.poll(30, TimeUnit.SECONDS);   // "from a worker"
 * }
 * }
 *
 * <h2>Capacity and blocking</h2>
 * The queue holds at most {@code capacity} elements, encoded with {@link Codec#standard()} into a
 * shared ring of {@link #DEFAULT_BUFFER_BYTES} (or the size given to {@link #create(int, long)}).
 * {@code put} waits while the queue is full, {@code take} while it is empty; {@code offer} and
 * {@code poll} give up at once or after their timeout. A put also waits while the ring lacks
 * bytes for the element; elements larger than a quarter of the ring travel through a temporary
 * file and take almost no ring, so any element size works.
 *
 * <h2>Order</h2>
 * Elements put by one thread are taken in the order they were put, whichever processes take
 * them; elements of different producers interleave in the order their puts completed.
 *
 * <h2>Shutdown</h2>
 * {@link #shutdown()}: puts fail with {@link QueueShutdownException}; takes return what is left,
 * then fail with it. {@link #shutdown(boolean) shutdown(true)}: what is left is dropped and takes
 * fail at once. Blocked putters and takers of every process wake and fail. Non-blocking reads
 * ({@link #poll()}, {@link #peek()}, {@link #drainTo}) return nothing instead of failing.
 * {@link #close()} stops using this handle; the creator's {@code close()} also shuts the queue
 * down (others drain it, nobody waits forever) and removes its name.
 *
 * <h2>Failure</h2>
 * An element that cannot be serialized is refused by the put that gave it
 * ({@link IllegalArgumentException} naming the class); the queue is unchanged. A process killed in
 * the middle of a put or a take leaves the queue consistent for the others: an element is in the
 * queue exactly when its put's single commit store happened, and the lock a dead process held is
 * taken over by the next process that needs it. A timed {@code offer} or {@code poll} keeps its
 * limit even then: it takes a dead holder's lock over at its limit at the latest. {@link #size()}
 * takes the lock too (as {@code ArrayBlockingQueue}'s does), so right after a consumer died mid-take
 * it does not count the element that consumer took. Elements put by a process that has since exited
 * stay in the queue.
 *
 * <h2>Handles</h2>
 * The queue is {@link Serializable}: a task that captures it, or receives it as an argument, uses
 * the same queue in the worker. {@link #attach(String)} opens it by {@link #name()}.
 * {@code iterator()}, {@code contains} and {@code toArray} work on a snapshot;
 * {@code remove(Object)} removes the first equal element.
 *
 * @param <E> the element type
 */
public sealed class ProcessQueue<E> extends AbstractQueue<E> implements BlockingQueue<E>, AutoCloseable, Serializable
        permits JoinableProcessQueue {
    @Serial
    private static final long serialVersionUID = 1L;
    /** Bytes of encoded elements the queue's ring holds unless told otherwise: 4 MiB. */
    public static final long DEFAULT_BUFFER_BYTES = 4L << 20;
    static final Codec CODEC = Codec.standard();

    private final String segmentName;
    private final long nonce;
    private transient Segment segment;
    /** Keeps a deserialized handle's mapping alive (see {@code Attachments}); null otherwise. */
    private transient Attachments.Attachment attachment;
    private transient boolean ownMapping;
    private transient volatile boolean closedHere;
    transient MessageRing ring;

    ProcessQueue(Segment segment) {
        this.segmentName = segment.name();
        this.nonce = segment.nonce();
        this.ownMapping = true;
        bind(segment);
    }

    private void bind(Segment attached) {
        this.segment = attached;
        boolean joinable = attached.kind() == RingLayout.KIND_JOINABLE_QUEUE;
        this.ring = new MessageRing(attached.data(), 0, segmentName,
                (joinable ? "JoinableProcessQueue '" : "ProcessQueue '") + segmentName + "'", joinable);
    }

    static Segment createSegment(String name, int capacity, long bufferBytes, int kind) {
        if (capacity < 1) {
            throw new IllegalArgumentException("a process queue is bounded: capacity must be at least 1, was "
                    + capacity);
        }
        long ringBytes = Pipe.checkBufferBytes(bufferBytes);
        Segment segment = Segment.create(name, RingLayout.sizeOf(ringBytes), kind);
        MessageRing.initialize(segment.data(), 0, ringBytes, capacity);
        return segment;
    }

    /**
     * @param capacity the most elements it holds, {@code >= 1}
     * @param <E>      the element type
     * @return a new empty queue, owned by this process
     * @throws IllegalArgumentException when {@code capacity < 1}
     */
    public static <E> ProcessQueue<E> create(int capacity) {
        return create(capacity, DEFAULT_BUFFER_BYTES);
    }

    /**
     * @param capacity    the most elements it holds, {@code >= 1}
     * @param bufferBytes bytes of encoded elements its ring holds (a power of two from 4 KiB to 1 GiB)
     * @param <E>         the element type
     * @return a new empty queue, owned by this process
     * @throws IllegalArgumentException on a bad capacity or buffer size
     */
    public static <E> ProcessQueue<E> create(int capacity, long bufferBytes) {
        return new ProcessQueue<>(createSegment(null, capacity, bufferBytes, RingLayout.KIND_QUEUE));
    }

    /**
     * Opens a queue another process created.
     *
     * @param name its {@link #name()}
     * @param <E>  the element type
     * @return a handle on it (closing it does not disturb others)
     * @throws IllegalArgumentException when that shared memory is not a process queue
     */
    public static <E> ProcessQueue<E> attach(String name) {
        Segment segment = Segment.attach(name);
        if (segment.kind() == RingLayout.KIND_JOINABLE_QUEUE) {
            return new JoinableProcessQueue<>(segment);
        }
        if (segment.kind() != RingLayout.KIND_QUEUE) {
            segment.close();
            throw new IllegalArgumentException("shared memory '" + name + "' is not a ProcessQueue (kind "
                    + segment.kind() + ")");
        }
        return new ProcessQueue<>(segment);
    }

    // ------------------------------------------------------------------------------------ put

    @Override
    public void put(E e) throws InterruptedException {
        append(e, -1);
    }

    @Override
    public boolean offer(E e) {
        try {
            return append(e, 0);
        } catch (InterruptedException impossible) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    @Override
    public boolean offer(E e, long timeout, TimeUnit unit) throws InterruptedException {
        return append(e, Math.max(0, unit.toNanos(timeout)));
    }

    private boolean append(E e, long timeoutNanos) throws InterruptedException {
        Objects.requireNonNull(e, "a ProcessQueue holds no null elements (BlockingQueue's rule)");
        MessageRing r = ring();
        // A byte[] travels as raw bytes: no encoding on either side (one copy in, one copy out).
        int type = e instanceof byte[] ? RingLayout.TYPE_BYTES : RingLayout.TYPE_OBJECT;
        byte[] bytes = e instanceof byte[] raw ? raw : encode(e);
        try {
            return r.put(type, bytes, 0, bytes.length, timeoutNanos, MessageRing.NO_CHECK);
        } catch (MessageRing.ClosedException closed) {
            throw new QueueShutdownException("cannot put into " + r.description() + ": it was shut down");
        } catch (IllegalStateException unmapped) {
            throw closedMeanwhile(unmapped);
        } finally {
            Reference.reachabilityFence(this); // a deserialized handle's mapping lives as long as the handle
        }
    }

    private byte[] encode(E e) {
        try {
            return CODEC.encode(e);
        } catch (NotSerializableException ex) {
            throw new IllegalArgumentException("cannot put a " + e.getClass().getName() + " into " + ring().description()
                    + ": " + ex.getMessage() + " is not Serializable; make it implement java.io.Serializable "
                    + "(the queue is unchanged)", ex);
        } catch (IOException ex) {
            throw new IllegalArgumentException("cannot encode a " + e.getClass().getName() + " for "
                    + ring().description() + ": " + ex + " (the queue is unchanged)", ex);
        }
    }

    // ------------------------------------------------------------------------------------ take

    @Override
    public E take() throws InterruptedException {
        return remove(-1);
    }

    @Override
    public E poll(long timeout, TimeUnit unit) throws InterruptedException {
        return remove(Math.max(0, unit.toNanos(timeout)));
    }

    /**
     * @return the head, or null when the queue is empty (also after a shutdown)
     */
    @Override
    public E poll() {
        try {
            return remove(0);
        } catch (QueueShutdownException e) {
            return null;
        } catch (InterruptedException impossible) {
            Thread.currentThread().interrupt();
            return null;
        }
    }

    private E remove(long timeoutNanos) throws InterruptedException {
        MessageRing r = ring();
        MessageRing.Message message;
        try {
            message = r.take(timeoutNanos, MessageRing.NO_CHECK);
        } catch (MessageRing.ClosedException closed) {
            throw new QueueShutdownException("cannot take from " + r.description() + ": it was shut down"
                    + (closed.state() == RingLayout.SHUTDOWN ? " and is drained" : " immediately"));
        } catch (IllegalStateException unmapped) {
            throw closedMeanwhile(unmapped);
        } finally {
            Reference.reachabilityFence(this);
        }
        return message == null ? null : decode(message);
    }

    @SuppressWarnings("unchecked")
    private E decode(MessageRing.Message message) {
        if (message.type() == RingLayout.TYPE_BYTES) {
            return (E) message.bytes();
        }
        try {
            return (E) CODEC.decode(message.bytes());
        } catch (IOException | ClassNotFoundException e) {
            throw new IllegalStateException("cannot decode an element taken from " + ring().description() + ": " + e
                    + " (is its class on this JVM's class path?); the element is dropped", e);
        }
    }

    /** @return the head without removing it, or null when empty */
    @Override
    public E peek() {
        try {
            MessageRing.Message message = ring().peek();
            return message == null ? null : decode(message);
        } finally {
            Reference.reachabilityFence(this);
        }
    }

    @Override
    public int drainTo(Collection<? super E> c) {
        return drainTo(c, Integer.MAX_VALUE);
    }

    @Override
    public int drainTo(Collection<? super E> c, int maxElements) {
        Objects.requireNonNull(c, "collection");
        if (c == this) {
            throw new IllegalArgumentException("cannot drain a queue into itself");
        }
        if (maxElements <= 0) {
            return 0;
        }
        try {
            List<MessageRing.Message> taken = ring().drain(maxElements);
            for (MessageRing.Message message : taken) {
                c.add(decode(message));
            }
            return taken.size();
        } finally {
            Reference.reachabilityFence(this);
        }
    }

    // ------------------------------------------------------------------------------------ inspection

    /** @return elements in the queue now (other processes may change it at once) */
    @Override
    public int size() {
        return ring().size();
    }

    @Override
    public int remainingCapacity() {
        return Math.max(0, capacity() - size());
    }

    /** @return the most elements the queue holds */
    public int capacity() {
        return ring().capacity();
    }

    /** @return an iterator over a snapshot (oldest first); its {@code remove} removes the first equal element */
    @Override
    public Iterator<E> iterator() {
        List<E> snapshot = new ArrayList<>();
        try {
            for (MessageRing.Message message : ring().snapshot()) {
                snapshot.add(decode(message));
            }
        } finally {
            Reference.reachabilityFence(this);
        }
        Iterator<E> it = snapshot.iterator();
        return new Iterator<>() {
            private E last;

            @Override
            public boolean hasNext() {
                return it.hasNext();
            }

            @Override
            public E next() {
                last = it.next();
                return last;
            }

            @Override
            public void remove() {
                if (last == null) {
                    throw new IllegalStateException("next() was not called");
                }
                ProcessQueue.this.remove(last);
                last = null;
            }
        };
    }

    /** Removes the first element equal to {@code o} (a linear scan under the queue's lock). */
    @Override
    public boolean remove(Object o) {
        if (o == null) {
            return false;
        }
        try {
            return ring().removeFirst(message -> o.equals(decode(message)));
        } finally {
            Reference.reachabilityFence(this);
        }
    }

    @Override
    public boolean contains(Object o) {
        return o != null && super.contains(o);
    }

    // ------------------------------------------------------------------------------------ shutdown

    /** Puts fail from now on; takes return what is left, then fail. Wakes every blocked process. */
    public void shutdown() {
        shutdown(false);
    }

    /**
     * Shuts the queue down for every process (Python 3.13's {@code Queue.shutdown}).
     *
     * @param immediate true: drop what is left (counted as done for a joinable queue) and fail takes
     *                  at once; false: let takers drain it first
     */
    public void shutdown(boolean immediate) {
        try {
            ring().shutdown(immediate);
        } finally {
            Reference.reachabilityFence(this);
        }
    }

    /** @return whether {@link #shutdown} was called (by any process) */
    public boolean isShutdown() {
        return ring().state() != RingLayout.OPEN;
    }

    /** @return the name other processes {@link #attach} by */
    public String name() {
        return segmentName;
    }

    /**
     * Stops using this handle. The creator's close also shuts the queue down (the other processes
     * drain what is left, then get {@link QueueShutdownException}) and removes its name. Idempotent.
     */
    @Override
    public void close() {
        if (segment.isClosed()) {
            return;
        }
        closedHere = true;
        if (segment.isOwner()) {
            ring.shutdown(false);
        }
        // A deserialized handle shares its JVM-wide mapping with every other copy: leave it mapped.
        if (ownMapping) {
            segment.close();
        }
    }

    /** Another thread of this process closed the handle while this one waited: its memory is unmapped. */
    private IllegalStateException closedMeanwhile(IllegalStateException e) {
        if (closedHere || segment.isClosed()) {
            return new QueueShutdownException(getClass().getSimpleName() + " '" + segmentName
                    + "' was closed in this process while this call waited");
        }
        return e;
    }

    final MessageRing ring() {
        if (closedHere || segment.isClosed()) {
            throw new IllegalStateException(getClass().getSimpleName() + " '" + segmentName
                    + "' was closed in this process; it cannot be used after close()");
        }
        return ring;
    }

    @Serial
    private void readObject(ObjectInputStream in) throws IOException, ClassNotFoundException {
        in.defaultReadObject();
        attachment = Attachments.attach(segmentName, nonce);
        Segment attached = attachment.segment();
        int expected = this instanceof JoinableProcessQueue ? RingLayout.KIND_JOINABLE_QUEUE : RingLayout.KIND_QUEUE;
        if (attached.kind() != expected) {
            throw new InvalidObjectException("shared memory '" + segmentName + "' is not a " + getClass().getSimpleName());
        }
        ownMapping = false;
        bind(attached);
    }

    @Override
    public String toString() {
        return getClass().getSimpleName() + "[" + segmentName + ", size " + (closedHere || segment.isClosed() ? "?"
                : size()) + "/" + (closedHere || segment.isClosed() ? "?" : capacity()) + "]";
    }
}
