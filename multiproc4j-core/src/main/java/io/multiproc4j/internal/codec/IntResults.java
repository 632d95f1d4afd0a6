package io.multiproc4j.internal.codec;

import java.nio.ByteBuffer;
import java.util.AbstractList;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Objects;
import java.util.RandomAccess;

/**
 * The list a worker's batch loop adds a batch's results to, under the {@link StandardCodec}: while
 * every result is an {@code Integer} it keeps them as {@code int}s, and encodes them as the packed
 * list an {@link ArrayList} of the same boxes would encode to, in one bulk copy. The first result of
 * any other kind (a {@code null}, a {@code Long}, anything) turns it into an ordinary
 * {@link ArrayList} of boxes, which encodes as before.
 *
 * <p>Why (perf, map5): with an {@link ArrayList} each result of {@code x -> x + 1} is a box that
 * lives until the batch is encoded, a second pass then reads every box back, and the worker's
 * collector copies the boxes it finds alive (a 125,000-element chunk: 2 MB of boxes, a 500 KB
 * reference array). Here the box is dead as soon as it is added, so the JIT can remove it when the
 * loop inlines the function, and the encoding is one copy of an {@code int[]}.
 *
 * <p>Not thread-safe: one worker thread fills it, then encodes it.
 */
public final class IntResults extends AbstractList<Object> implements RandomAccess {
    private int[] ints;
    /** Non-null once a result was not an Integer: the boxes, and from then on the only storage. */
    private ArrayList<Object> boxes;
    private int size;

    /** @param capacity the expected number of results */
    public IntResults(int capacity) {
        this.ints = new int[Math.max(0, capacity)];
    }

    @Override
    public boolean add(Object result) {
        if (boxes == null) {
            if (result instanceof Integer v) {
                if (size == ints.length) {
                    ints = Arrays.copyOf(ints, Math.max(8, size * 2));
                }
                ints[size++] = v;
                return true;
            }
            boxes = new ArrayList<>(Math.max(ints.length, size + 1));
            for (int i = 0; i < size; i++) {
                boxes.add(ints[i]);
            }
            ints = null;
        }
        boxes.add(result);
        size++;
        modCount++;
        return true;
    }

    @Override
    public Object get(int index) {
        Objects.checkIndex(index, size);
        return boxes != null ? boxes.get(index) : (Object) ints[index];
    }

    @Override
    public int size() {
        return size;
    }

    @Override
    public void clear() {
        boxes = null;
        ints = new int[ints == null ? 8 : ints.length];
        size = 0;
        modCount++;
    }

    /**
     * The bytes {@link StandardCodec} gives for an {@link ArrayList} of these results: the packed
     * list written straight from the ints when there are enough of them, else the ordinary encoding.
     */
    byte[] encode() throws java.io.IOException {
        if (boxes != null) {
            return StandardCodec.encodeValue(boxes);
        }
        byte[] out = StandardCodec.packedInts(size);
        if (out == null) {
            return StandardCodec.encodeValue(new ArrayList<>(this));
        }
        // big-endian, as the packed format is: a bulk byte-swapping copy
        ByteBuffer.wrap(out, StandardCodec.PACKED_HEADER, 4 * size).asIntBuffer().put(ints, 0, size);
        return out;
    }
}
