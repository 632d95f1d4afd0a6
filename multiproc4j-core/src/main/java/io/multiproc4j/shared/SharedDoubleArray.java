package io.multiproc4j.shared;

import io.multiproc4j.internal.shm.Segment;
import java.io.Serial;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.util.Objects;
import java.util.function.DoubleUnaryOperator;

/**
 * A fixed-length array of {@code double} in shared memory, visible to every process that maps it, with
 * atomic per-element operations. Elements are packed, 8 bytes each, from the start of the data.
 *
 * {@snippet :
 * try (Pool pool = Pool.processes(2);
 *      SharedDoubleArray data = SharedDoubleArray.create(1_000)) {
 *     pool.map(i -> { data.set(i, i * 0.5); return null; }, range(0, 1_000));  // each worker writes its part
 *     double[] copy = data.toArray();
 * }
 * }
 *
 * <p>The handle is {@link java.io.Serializable}: a task that captures it maps the same memory in the
 * worker. {@link #createUnsynchronized} gives plain, non-atomic element updates (the talk's race).
 * Indexes are checked: a bad one is an {@link IndexOutOfBoundsException} naming index and length.
 */
public final class SharedDoubleArray extends SharedView {
    @Serial
    private static final long serialVersionUID = 1L;
    private static final VarHandle VH = ValueLayout.JAVA_DOUBLE.varHandle();

    private final int length;

    private SharedDoubleArray(Segment segment, boolean owns, long offset, int length, boolean atomic) {
        super(segment, owns, offset, (long) length * 8, 8, atomic);
        this.length = length;
    }

    /**
     * @param length number of elements, {@code > 0}
     * @return a new zero-filled atomic array in its own segment with a generated name; close it when done
     */
    public static SharedDoubleArray create(int length) {
        return create(null, length);
    }

    /**
     * @param name   the segment name; other processes {@link #attach} by it
     * @param length number of elements, {@code > 0}
     * @return a new zero-filled atomic array in its own segment
     * @throws SharedMemoryException when the name is taken
     */
    public static SharedDoubleArray create(String name, int length) {
        checkLength(length);
        return new SharedDoubleArray(newSegment(name, (long) length * 8), true, 0, length, true);
    }

    /**
     * @param length number of elements, {@code > 0}
     * @return a new zero-filled array with plain, non-atomic updates
     */
    public static SharedDoubleArray createUnsynchronized(int length) {
        checkLength(length);
        return new SharedDoubleArray(newSegment(null, (long) length * 8), true, 0, length, false);
    }

    /**
     * @param name the name given to {@link #create(String, int)}
     * @return an atomic view of it (the length comes from the segment's size)
     * @throws SharedMemoryException when there is no such segment
     */
    public static SharedDoubleArray attach(String name) {
        Segment segment = Segment.attach(name);
        return new SharedDoubleArray(segment, true, 0, (int) (segment.dataSize() / 8), true);
    }

    /**
     * @param memory a segment
     * @param offset byte offset of element 0, a multiple of 8
     * @param length number of elements
     * @return an atomic view; it does not own {@code memory}
     */
    public static SharedDoubleArray at(SharedMemory memory, long offset, int length) {
        checkLength(length);
        return new SharedDoubleArray(memory.segment(), false, offset, length, true);
    }

    private static void checkLength(int length) {
        if (length <= 0) {
            throw new IllegalArgumentException("array length must be > 0, was " + length);
        }
    }

    private long at(int index) {
        return offset + (long) Objects.checkIndex(index, length) * 8;
    }

    /** @return the number of elements */
    public int length() {
        return length;
    }

    /**
     * @param index element index
     * @return the element
     */
    public double get(int index) {
        long at = at(index);
        return atomic ? (double) VH.getVolatile(memory(), at) : (double) VH.get(memory(), at);
    }

    /**
     * @param index element index
     * @param value the new value
     */
    public void set(int index, double value) {
        long at = at(index);
        if (atomic) {
            VH.setVolatile(memory(), at, value);
        } else {
            VH.set(memory(), at, value);
        }
    }

    /**
     * @param index    element index
     * @param expected the value expected now
     * @param value    the new value
     * @return whether the element was {@code expected} and is now {@code value}
     */
    public boolean compareAndSet(int index, double expected, double value) {
        if (!atomic) {
            if (Double.doubleToRawLongBits(get(index)) != Double.doubleToRawLongBits(expected)) {
                return false;
            }
            set(index, value);
            return true;
        }
        return VH.compareAndSet(memory(), at(index), expected, value);
    }

    /**
     * @param index element index
     * @param delta what to add
     * @return the previous value
     */
    public double getAndAdd(int index, double delta) {
        if (!atomic) {
            double old = get(index);
            set(index, old + delta);
            return old;
        }
        // Memory-segment var handles have no numeric atomic update for double: CAS on the raw bits.
        long at = at(index);
        double old;
        do {
            old = (double) VH.getVolatile(memory(), at);
        } while (!VH.compareAndSet(memory(), at, old, old + delta));
        return old;
    }

    /**
     * @param index element index
     * @param delta what to add
     * @return the new value
     */
    public double addAndGet(int index, double delta) {
        return getAndAdd(index, delta) + delta;
    }

    /**
     * Applies {@code update} in a compare-and-set loop (it may run more than once: keep it free of side effects).
     *
     * @param index  element index
     * @param update computes the new value from the current one
     * @return the previous value
     */
    public double getAndUpdate(int index, DoubleUnaryOperator update) {
        double old;
        do {
            old = get(index);
        } while (!compareAndSet(index, old, update.applyAsDouble(old)));
        return old;
    }

    /** @return a copy of all elements, read one by one (not a snapshot under concurrent writes) */
    public double[] toArray() {
        double[] copy = new double[length];
        for (int i = 0; i < length; i++) {
            copy[i] = get(i);
        }
        return copy;
    }

    @Override
    public String toString() {
        return "SharedDoubleArray[" + name() + ", length " + length + (atomic ? "" : ", unsynchronized") + "]";
    }
}
