package io.multiproc4j.internal.codec;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.AbstractList;
import java.util.Objects;
import java.util.RandomAccess;

/**
 * A read-only view of a packed list of {@code int}, {@code long} or {@code double} values as they
 * arrived (big-endian, inside the received bytes), boxing each element when it is read. The pool
 * decodes a batch's results into one of these ({@link StandardCodec#decodeResults}) and copies the
 * primitive values straight into the call's {@link SegmentedList}: a million results then cost the
 * pool's JVM a 4 MB {@code int[]} instead of a million {@code Integer}s for its collector to trace.
 */
public final class PackedList extends AbstractList<Object> implements RandomAccess {
    private static final VarHandle INT_BE = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.BIG_ENDIAN);
    private static final VarHandle LONG_BE = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.BIG_ENDIAN);

    /** What the elements are. */
    enum Kind { INT, LONG, DOUBLE }

    private final Kind kind;
    private final byte[] bytes;
    private final int offset;
    private final int size;

    PackedList(Kind kind, byte[] bytes, int offset, int size) {
        this.kind = kind;
        this.bytes = bytes;
        this.offset = offset;
        this.size = size;
    }

    Kind kind() {
        return kind;
    }

    @Override
    public Object get(int index) {
        Objects.checkIndex(index, size);
        // perf (map5): branches, not a switch: the JIT prunes the kinds a loop never saw, so the box
        // made here is the only one and can be removed when the function that reads it is inlined
        // (with the switch's merge of three boxes, a worker allocated every input's Integer)
        if (kind == Kind.INT) {
            return intAt(index);
        }
        if (kind == Kind.LONG) {
            return longAt(index);
        }
        return Double.longBitsToDouble(longAt(index));
    }

    int intAt(int index) {
        return (int) INT_BE.get(bytes, offset + 4 * index);
    }

    long longAt(int index) {
        return (long) LONG_BE.get(bytes, offset + 8 * index);
    }

    /**
     * The ints from {@code from} on as a segment that reads them where they are: it keeps the
     * received bytes alive, as a copy of them would keep an {@code int[]} of the same size.
     */
    SegmentedList.IntView intView(int from) {
        Objects.checkIndex(from, size);
        return new SegmentedList.IntView(bytes, offset + 4 * from);
    }

    /** Copies ints {@code from .. from + length - 1} into {@code target} at {@code at}. */
    void copyInts(int from, int[] target, int at, int length) {
        Objects.checkFromIndexSize(from, length, size);
        // perf (map5): one bulk byte-swapping copy, not a VarHandle read per element
        ByteBuffer.wrap(bytes, offset + 4 * from, 4 * length).asIntBuffer().get(target, at, length);
    }

    /** Copies the raw 64-bit elements (longs, or doubles' bits) into {@code target} at {@code at}. */
    void copyLongs(int from, long[] target, int at, int length) {
        Objects.checkFromIndexSize(from, length, size);
        ByteBuffer.wrap(bytes, offset + 8 * from, 8 * length).asLongBuffer().get(target, at, length);
    }

    @Override
    public int size() {
        return size;
    }
}
