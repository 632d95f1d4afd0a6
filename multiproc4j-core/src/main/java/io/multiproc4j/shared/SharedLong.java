package io.multiproc4j.shared;

import io.multiproc4j.internal.shm.Segment;
import java.io.Serial;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.util.function.LongUnaryOperator;

/**
 * A {@code long} in shared memory, visible to every process that maps it, with atomic operations
 * (compiled to {@code LOCK XADD}/{@code LOCK CMPXCHG} on the mapped memory, which x86-64 makes
 * atomic across processes).
 *
 * {@snippet :
 * try (Pool pool = Pool.processes(4);
 *      SharedLong counter = SharedLong.create(0)) {
 *     pool.map(i -> counter.incrementAndGet(), inputs);   // exactly inputs.size() increments
 * }
 * }
 *
 * <p>The handle is {@link java.io.Serializable}: a task that captures it maps the same memory in the
 * worker. {@link #createUnsynchronized} gives the racy variant of the talk (plain reads and writes):
 * its read-modify-write operations lose updates when processes contend.
 *
 * <p><b>Memory order</b>: {@code get}/{@code set} are volatile (plain for the unsynchronized
 * variant); every read-modify-write is a full fence.
 */
public final class SharedLong extends SharedView {
    @Serial
    private static final long serialVersionUID = 1L;
    private static final VarHandle VH = ValueLayout.JAVA_LONG.varHandle();

    private SharedLong(Segment segment, boolean owns, long offset, boolean atomic) {
        super(segment, owns, offset, 8, 8, atomic);
    }

    /**
     * @param initial the first value
     * @return a new atomic {@code long} in its own segment with a generated name; close it when done
     */
    public static SharedLong create(long initial) {
        return create(null, initial);
    }

    /**
     * @param name    the segment name (letters, digits, {@code . _ -}); other processes {@link #attach} by it
     * @param initial the first value
     * @return a new atomic {@code long} in its own segment
     * @throws SharedMemoryException when the name is taken
     */
    public static SharedLong create(String name, long initial) {
        SharedLong value = new SharedLong(newSegment(name, 8), true, 0, true);
        value.set(initial);
        return value;
    }

    /**
     * The talk's race made available on purpose: plain reads and writes, and read-modify-write
     * operations that are a read then a write, so concurrent updates get lost.
     *
     * @param initial the first value
     * @return a new unsynchronized {@code long}
     */
    public static SharedLong createUnsynchronized(long initial) {
        SharedLong value = new SharedLong(newSegment(null, 8), true, 0, false);
        value.set(initial);
        return value;
    }

    /**
     * @param name the name given to {@link #create(String, long)}
     * @return an atomic view of it; closing it unmaps this process's mapping only
     * @throws SharedMemoryException when there is no such segment
     */
    public static SharedLong attach(String name) {
        return new SharedLong(Segment.attach(name), true, 0, true);
    }

    /**
     * @param memory a segment
     * @param offset byte offset, a multiple of 8
     * @return an atomic view of the {@code long} at {@code offset}; it does not own {@code memory}
     */
    public static SharedLong at(SharedMemory memory, long offset) {
        return new SharedLong(memory.segment(), false, offset, true);
    }

    /** @return the value */
    public long get() {
        return atomic ? (long) VH.getVolatile(memory(), offset) : (long) VH.get(memory(), offset);
    }

    /** @param value the new value */
    public void set(long value) {
        if (atomic) {
            VH.setVolatile(memory(), offset, value);
        } else {
            VH.set(memory(), offset, value);
        }
    }

    /**
     * @param value the new value
     * @return the previous value
     */
    public long getAndSet(long value) {
        if (!atomic) {
            long old = get();
            set(value);
            return old;
        }
        return (long) VH.getAndSet(memory(), offset, value);
    }

    /**
     * @param expected the value expected now
     * @param value    the new value
     * @return whether the value was {@code expected} and is now {@code value}
     */
    public boolean compareAndSet(long expected, long value) {
        if (!atomic) {
            if (get() != expected) {
                return false;
            }
            set(value);
            return true;
        }
        return VH.compareAndSet(memory(), offset, expected, value);
    }

    /**
     * @param delta what to add
     * @return the previous value
     */
    public long getAndAdd(long delta) {
        if (!atomic) {
            long old = get();
            set(old + delta);
            return old;
        }
        return (long) VH.getAndAdd(memory(), offset, delta);
    }

    /**
     * @param delta what to add
     * @return the new value
     */
    public long addAndGet(long delta) {
        return getAndAdd(delta) + delta;
    }

    /** @return the new value */
    public long incrementAndGet() {
        return addAndGet(1);
    }

    /** @return the previous value */
    public long getAndIncrement() {
        return getAndAdd(1);
    }

    /** @return the new value */
    public long decrementAndGet() {
        return addAndGet(-1);
    }

    /**
     * Applies {@code update} in a compare-and-set loop: it may run more than once, so it must be free
     * of side effects. A serializable lambda works in any process.
     *
     * @param update computes the new value from the current one
     * @return the previous value
     */
    public long getAndUpdate(LongUnaryOperator update) {
        long old;
        do {
            old = get();
        } while (!compareAndSet(old, update.applyAsLong(old)));
        return old;
    }

    /**
     * @param update computes the new value from the current one (see {@link #getAndUpdate})
     * @return the new value
     */
    public long updateAndGet(LongUnaryOperator update) {
        long old;
        long next;
        do {
            old = get();
            next = update.applyAsLong(old);
        } while (!compareAndSet(old, next));
        return next;
    }

    @Override
    public String toString() {
        return "SharedLong[" + name() + (atomic ? "" : ", unsynchronized") + "]";
    }
}
