package io.multiproc4j.shared;

import io.multiproc4j.internal.shm.Segment;
import java.io.Serial;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.util.function.IntUnaryOperator;

/**
 * A {@code int} in shared memory, visible to every process that maps it, with atomic operations
 * (compiled to {@code LOCK XADD}/{@code LOCK CMPXCHG} on the mapped memory, which x86-64 makes
 * atomic across processes).
 *
 * {@snippet :
 * try (Pool pool = Pool.processes(4);
 *      SharedInt counter = SharedInt.create(0)) {
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
public final class SharedInt extends SharedView {
    @Serial
    private static final long serialVersionUID = 1L;
    private static final VarHandle VH = ValueLayout.JAVA_INT.varHandle();

    private SharedInt(Segment segment, boolean owns, long offset, boolean atomic) {
        super(segment, owns, offset, 4, 4, atomic);
    }

    /**
     * @param initial the first value
     * @return a new atomic {@code int} in its own segment with a generated name; close it when done
     */
    public static SharedInt create(int initial) {
        return create(null, initial);
    }

    /**
     * @param name    the segment name (letters, digits, {@code . _ -}); other processes {@link #attach} by it
     * @param initial the first value
     * @return a new atomic {@code int} in its own segment
     * @throws SharedMemoryException when the name is taken
     */
    public static SharedInt create(String name, int initial) {
        SharedInt value = new SharedInt(newSegment(name, 4), true, 0, true);
        value.set(initial);
        return value;
    }

    /**
     * The talk's race made available on purpose: plain reads and writes, and read-modify-write
     * operations that are a read then a write, so concurrent updates get lost.
     *
     * @param initial the first value
     * @return a new unsynchronized {@code int}
     */
    public static SharedInt createUnsynchronized(int initial) {
        SharedInt value = new SharedInt(newSegment(null, 4), true, 0, false);
        value.set(initial);
        return value;
    }

    /**
     * @param name the name given to {@link #create(String, int)}
     * @return an atomic view of it; closing it unmaps this process's mapping only
     * @throws SharedMemoryException when there is no such segment
     */
    public static SharedInt attach(String name) {
        return new SharedInt(Segment.attach(name), true, 0, true);
    }

    /**
     * @param memory a segment
     * @param offset byte offset, a multiple of 4
     * @return an atomic view of the {@code int} at {@code offset}; it does not own {@code memory}
     */
    public static SharedInt at(SharedMemory memory, long offset) {
        return new SharedInt(memory.segment(), false, offset, true);
    }

    /** @return the value */
    public int get() {
        return atomic ? (int) VH.getVolatile(memory(), offset) : (int) VH.get(memory(), offset);
    }

    /** @param value the new value */
    public void set(int value) {
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
    public int getAndSet(int value) {
        if (!atomic) {
            int old = get();
            set(value);
            return old;
        }
        return (int) VH.getAndSet(memory(), offset, value);
    }

    /**
     * @param expected the value expected now
     * @param value    the new value
     * @return whether the value was {@code expected} and is now {@code value}
     */
    public boolean compareAndSet(int expected, int value) {
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
    public int getAndAdd(int delta) {
        if (!atomic) {
            int old = get();
            set(old + delta);
            return old;
        }
        return (int) VH.getAndAdd(memory(), offset, delta);
    }

    /**
     * @param delta what to add
     * @return the new value
     */
    public int addAndGet(int delta) {
        return getAndAdd(delta) + delta;
    }

    /** @return the new value */
    public int incrementAndGet() {
        return addAndGet(1);
    }

    /** @return the previous value */
    public int getAndIncrement() {
        return getAndAdd(1);
    }

    /** @return the new value */
    public int decrementAndGet() {
        return addAndGet(-1);
    }

    /**
     * Applies {@code update} in a compare-and-set loop: it may run more than once, so it must be free
     * of side effects. A serializable lambda works in any process.
     *
     * @param update computes the new value from the current one
     * @return the previous value
     */
    public int getAndUpdate(IntUnaryOperator update) {
        int old;
        do {
            old = get();
        } while (!compareAndSet(old, update.applyAsInt(old)));
        return old;
    }

    /**
     * @param update computes the new value from the current one (see {@link #getAndUpdate})
     * @return the new value
     */
    public int updateAndGet(IntUnaryOperator update) {
        int old;
        int next;
        do {
            old = get();
            next = update.applyAsInt(old);
        } while (!compareAndSet(old, next));
        return next;
    }

    @Override
    public String toString() {
        return "SharedInt[" + name() + (atomic ? "" : ", unsynchronized") + "]";
    }
}
