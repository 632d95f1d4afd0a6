package io.multiproc4j.internal.codec;

import java.io.Serial;
import java.io.Serializable;
import java.util.AbstractList;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;
import java.util.RandomAccess;

/**
 * The unmodifiable list of a call's results, held in segments of {@value #SEGMENT} elements instead
 * of one array: filled in place as chunks arrive, handed to the caller as it is (no final copy), and
 * never a humongous object for G1.
 *
 * <h2>Why segments, and why primitive ones</h2>
 * Under G1 an {@code Object[]} of a million references is a humongous region that young collections
 * neither free nor move, so each young pause during a map treats it as a root and copies the million
 * results it points to, dead or not (pauses of 100–480 ms were measured on 2 cores). Segments are
 * ordinary young objects. A segment whose results all arrived packed ({@link PackedList}: every result
 * of its chunks an {@code Integer}, say) is an {@code int[]}, boxed when read: a million results are
 * then 4 MB the collector copies as plain bytes, not a million objects to trace. Reading such an
 * element twice gives two equal boxes, not necessarily the same one (as with any value that crossed a
 * process boundary). A segment of ints that came whole in one chunk's results is not even copied:
 * it reads them in the bytes they arrived in ({@link IntView}). A segment that gets anything else
 * becomes an {@code Object[]}, boxing what it held.
 *
 * <h2>Concurrency</h2>
 * Chunks of one call arrive on several reader threads, and two chunks may share a segment, so writes
 * ({@link #putAll}) take the list's monitor (one uncontended lock per chunk). The owner publishes the
 * list through its countdown once every index is written; after that it is only read, without locks.
 *
 * <p>Nulls are allowed (a task may return null). It serializes as an unmodifiable {@link ArrayList}
 * copy, and {@link StandardCodec} sends it packed like any list of boxes.
 *
 * @param <E> the element type
 */
public final class SegmentedList<E> extends AbstractList<E> implements RandomAccess, Serializable {
    @Serial
    private static final long serialVersionUID = 1L;
    /** log2 of the segment length. */
    static final int SEGMENT_BITS = 15;
    /** Elements per segment: 32,768 (128 KiB of references with compressed oops): far below G1's humongous size. */
    static final int SEGMENT = 1 << SEGMENT_BITS;
    private static final int MASK = SEGMENT - 1;

    /** Each null (nothing written yet), an {@code Object[]}, {@code int[]}, {@link IntView}, {@code long[]} or a {@link Doubles}. */
    private final transient Object[] segments;
    private final int size;

    /** @param size the number of elements, all null until written */
    public SegmentedList(int size) {
        if (size < 0) {
            throw new IllegalArgumentException("size must be >= 0, was " + size);
        }
        this.size = size;
        this.segments = new Object[(size + MASK) >>> SEGMENT_BITS];
    }

    private int segmentLength(int s) {
        return Math.min(SEGMENT, size - (s << SEGMENT_BITS));
    }

    /**
     * Stores a run of elements from index {@code from} on, segment by segment: packed values into
     * primitive segments, anything else as references.
     *
     * @param from     the index of the first
     * @param elements what to store
     */
    public synchronized void putAll(int from, List<?> elements) {
        int n = elements.size();
        Objects.checkFromIndexSize(from, n, size);
        PackedList packed = elements instanceof PackedList p ? p : null;
        int i = 0;
        while (i < n) {
            int index = from + i;
            int s = index >>> SEGMENT_BITS;
            int at = index & MASK;
            int run = Math.min(n - i, segmentLength(s) - at);
            Object segment = segments[s];
            if (packed != null && segment == null && at == 0 && run == segmentLength(s)
                    && packed.kind() == PackedList.Kind.INT) {
                // perf (map5): a whole segment in one chunk's results is a view of the bytes they
                // arrived in, not a copy of them
                segments[s] = packed.intView(i);
                i += run;
                continue;
            }
            if (segment instanceof IntView view) {
                segment = segments[s] = view.copy(segmentLength(s)); // written twice: not by a call's batches
            }
            if (packed != null && (segment == null || fits(segment, packed.kind()))) {
                if (segment == null) {
                    segment = segments[s] = switch (packed.kind()) {
                        case INT -> new int[segmentLength(s)];
                        case LONG -> new long[segmentLength(s)];
                        case DOUBLE -> new Doubles(new long[segmentLength(s)]);
                    };
                }
                if (segment instanceof int[] ints) {
                    packed.copyInts(i, ints, at, run);
                } else if (segment instanceof long[] longs) {
                    packed.copyLongs(i, longs, at, run);
                } else {
                    packed.copyLongs(i, ((Doubles) segment).bits(), at, run);
                }
            } else {
                Object[] refs = references(s);
                for (int k = 0; k < run; k++) {
                    refs[at + k] = elements.get(i + k);
                }
            }
            i += run;
        }
    }

    private static boolean fits(Object segment, PackedList.Kind kind) {
        return switch (kind) {
            case INT -> segment instanceof int[];
            case LONG -> segment instanceof long[];
            case DOUBLE -> segment instanceof Doubles;
        };
    }

    /** Segment {@code s} as references, boxing what a primitive segment held. */
    private Object[] references(int s) {
        Object segment = segments[s];
        if (segment instanceof IntView view) {
            segment = view.copy(segmentLength(s));
        }
        if (segment instanceof Object[] refs) {
            return refs;
        }
        Object[] refs = new Object[segmentLength(s)];
        if (segment != null) {
            for (int k = 0; k < refs.length; k++) {
                refs[k] = element(segment, k);
            }
        }
        segments[s] = refs;
        return refs;
    }

    private static Object element(Object segment, int k) {
        // perf (map5): instanceof tests, which the JIT folds by profile; a switch on the type goes
        // through its typeSwitch bootstrap on every read (a user's loop over a million results)
        if (segment instanceof IntView view) {
            return view.get(k);
        }
        if (segment instanceof int[] ints) {
            return ints[k];
        }
        if (segment instanceof Object[] refs) {
            return refs[k];
        }
        if (segment instanceof long[] longs) {
            return longs[k];
        }
        if (segment instanceof Doubles d) {
            return Double.longBitsToDouble(d.bits()[k]);
        }
        throw new AssertionError(segment);
    }

    @Override
    @SuppressWarnings("unchecked")
    public E get(int index) {
        Objects.checkIndex(index, size);
        Object segment = segments[index >>> SEGMENT_BITS];
        return segment == null ? null : (E) element(segment, index & MASK);
    }

    @Override
    public int size() {
        return size;
    }

    @Serial
    private Object writeReplace() {
        return Collections.unmodifiableList(new ArrayList<>(this));
    }

    /**
     * A segment of ints that is a view of packed results as they arrived (big-endian, from
     * {@code offset} in {@code bytes}): see {@link PackedList#intView}.
     */
    record IntView(byte[] bytes, int offset) {
        private static final java.lang.invoke.VarHandle INT_BE = java.lang.invoke.MethodHandles.byteArrayViewVarHandle(
                int[].class, java.nio.ByteOrder.BIG_ENDIAN);

        int get(int k) {
            return (int) INT_BE.get(bytes, offset + 4 * k);
        }

        int[] copy(int length) {
            int[] ints = new int[length];
            java.nio.ByteBuffer.wrap(bytes, offset, 4 * length).asIntBuffer().get(ints);
            return ints;
        }
    }

    /** The raw bits of a segment of doubles (a distinct type, so it is never mistaken for longs). */
    private record Doubles(long[] bits) {}
}
