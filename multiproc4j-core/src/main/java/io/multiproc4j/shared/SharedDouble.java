package io.multiproc4j.shared;

import io.multiproc4j.internal.shm.Segment;
import java.io.Serial;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.util.function.DoubleUnaryOperator;

/**
 * A {@code double} in shared memory, visible to every process that maps it, with atomic operations
 * (compare-and-set loops on the raw bits, {@code LOCK CMPXCHG} on the mapped memory, which x86-64
 * makes atomic across processes). {@code compareAndSet} compares raw bits, so {@code NaN} matches
 * itself and {@code 0.0} does not match {@code -0.0}.
 *
 * {@snippet :
 * try (Pool pool = Pool.processes(4);
 *      SharedDouble counter = SharedDouble.create(0)) {
 *     pool.map(i -> counter.addAndGet(0.5), inputs);   // exactly 0.5 * inputs.size()
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
public final class SharedDouble extends SharedView {
    @Serial
    private static final long serialVersionUID = 1L;
    private static final VarHandle VH = ValueLayout.JAVA_DOUBLE.varHandle();

    private SharedDouble(Segment segment, boolean owns, long offset, boolean atomic) {
        super(segment, owns, offset, 8, 8, atomic);
    }

    /**
     * @param initial the first value
     * @return a new atomic {@code double} in its own segment with a generated name; close it when done
     */
    public static SharedDouble create(double initial) {
        return create(null, initial);
    }

    /**
     * @param name    the segment name (letters, digits, {@code . _ -}); other processes {@link #attach} by it
     * @param initial the first value
     * @return a new atomic {@code double} in its own segment
     * @throws SharedMemoryException when the name is taken
     */
    public static SharedDouble create(String name, double initial) {
        SharedDouble value = new SharedDouble(newSegment(name, 8), true, 0, true);
        value.set(initial);
        return value;
    }

    /**
     * The talk's race made available on purpose: plain reads and writes, and read-modify-write
     * operations that are a read then a write, so concurrent updates get lost.
     *
     * @param initial the first value
     * @return a new unsynchronized {@code double}
     */
    public static SharedDouble createUnsynchronized(double initial) {
        SharedDouble value = new SharedDouble(newSegment(null, 8), true, 0, false);
        value.set(initial);
        return value;
    }

    /**
     * @param name the name given to {@link #create(String, double)}
     * @return an atomic view of it; closing it unmaps this process's mapping only
     * @throws SharedMemoryException when there is no such segment
     */
    public static SharedDouble attach(String name) {
        return new SharedDouble(Segment.attach(name), true, 0, true);
    }

    /**
     * @param memory a segment
     * @param offset byte offset, a multiple of 8
     * @return an atomic view of the {@code double} at {@code offset}; it does not own {@code memory}
     */
    public static SharedDouble at(SharedMemory memory, long offset) {
        return new SharedDouble(memory.segment(), false, offset, true);
    }

    /** @return the value */
    public double get() {
        return atomic ? (double) VH.getVolatile(memory(), offset) : (double) VH.get(memory(), offset);
    }

    /** @param value the new value */
    public void set(double value) {
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
    public double getAndSet(double value) {
        if (!atomic) {
            double old = get();
            set(value);
            return old;
        }
        return (double) VH.getAndSet(memory(), offset, value);
    }

    /**
     * @param expected the value expected now
     * @param value    the new value
     * @return whether the value was {@code expected} and is now {@code value}
     */
    public boolean compareAndSet(double expected, double value) {
        if (!atomic) {
            if (Double.doubleToRawLongBits(get()) != Double.doubleToRawLongBits(expected)) {
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
    public double getAndAdd(double delta) {
        if (!atomic) {
            double old = get();
            set(old + delta);
            return old;
        }
        // Memory-segment var handles have no numeric atomic update for double: CAS on the raw bits.
        double old;
        do {
            old = get();
        } while (!VH.compareAndSet(memory(), offset, old, old + delta));
        return old;
    }

    /**
     * @param delta what to add
     * @return the new value
     */
    public double addAndGet(double delta) {
        return getAndAdd(delta) + delta;
    }

    /**
     * Applies {@code update} in a compare-and-set loop: it may run more than once, so it must be free
     * of side effects. A serializable lambda works in any process.
     *
     * @param update computes the new value from the current one
     * @return the previous value
     */
    public double getAndUpdate(DoubleUnaryOperator update) {
        double old;
        do {
            old = get();
        } while (!compareAndSet(old, update.applyAsDouble(old)));
        return old;
    }

    /**
     * @param update computes the new value from the current one (see {@link #getAndUpdate})
     * @return the new value
     */
    public double updateAndGet(DoubleUnaryOperator update) {
        double old;
        double next;
        do {
            old = get();
            next = update.applyAsDouble(old);
        } while (!compareAndSet(old, next));
        return next;
    }

    @Override
    public String toString() {
        return "SharedDouble[" + name() + (atomic ? "" : ", unsynchronized") + "]";
    }
}
