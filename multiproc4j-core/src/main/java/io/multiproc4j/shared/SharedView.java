package io.multiproc4j.shared;

import io.multiproc4j.internal.shm.Segment;
import java.io.IOException;
import java.io.ObjectInputStream;
import java.io.Serial;
import java.io.Serializable;
import java.lang.foreign.MemorySegment;
import java.util.Objects;

/**
 * What every typed view shares: the segment it reads, where in it, whether its updates are atomic,
 * and how it travels to another process.
 *
 * <h2>Serialization</h2>
 * Only the segment's name and creation nonce, the offset and the flags are written. Reading them
 * back maps the segment in the receiving process ({@code Segment.attachCached}): once per JVM while
 * any handle of it is reachable (the GC unmaps it after), so a worker running many tasks that
 * capture one handle maps it once. In the process
 * that created the segment, the creator's own mapping is reused.
 *
 * <h2>Lifetime</h2>
 * A view made by a {@code create} method owns its segment: {@link #close()} unmaps it and removes
 * its name. A view over a {@link SharedMemory} ({@code at(...)}) or a deserialized copy borrows the
 * mapping: closing it only stops this handle.
 */
public abstract sealed class SharedView implements AutoCloseable, Serializable
        permits SharedLong, SharedInt, SharedDouble, SharedLongArray, SharedIntArray, SharedDoubleArray,
        SharedBytes {
    @Serial
    private static final long serialVersionUID = 1L;

    private final String segmentName;
    private final long nonce;
    /** Byte offset of the view within the segment's data. */
    final long offset;
    /** Whether read-modify-write operations are atomic across processes. */
    final boolean atomic;
    private transient Segment segment;
    private transient boolean ownsSegment;
    private transient volatile boolean closed;

    SharedView(Segment segment, boolean ownsSegment, long offset, long bytes, int alignment, boolean atomic) {
        this.segmentName = segment.name();
        this.nonce = segment.nonce();
        this.offset = offset;
        this.atomic = atomic;
        this.segment = segment;
        this.ownsSegment = ownsSegment;
        Objects.checkFromIndexSize(offset, bytes, segment.dataSize());
        if (offset % alignment != 0) {
            throw new IllegalArgumentException("offset " + offset + " must be a multiple of " + alignment
                    + " (the element size) for atomic access");
        }
    }

    /** @return the memory to read; fails clearly after close */
    final MemorySegment memory() {
        if (closed) {
            throw new IllegalStateException(getClass().getSimpleName() + " over shared memory '" + segmentName
                    + "' is closed; it cannot be used after close()");
        }
        return segment.data();
    }

    /** @return the name of the segment holding the data (attach to it by that name elsewhere) */
    public final String name() {
        return segmentName;
    }

    /**
     * @return true for the atomic views made by {@code create}; false for the
     *         {@code createUnsynchronized} ones, whose read-modify-write operations are a plain read
     *         then a plain write, and lose updates under contention
     */
    public final boolean isAtomic() {
        return atomic;
    }

    /**
     * Stops using the view. The creator's view also unmaps its segment and removes its name; other
     * processes that still map it keep working. Idempotent.
     */
    @Override
    public final void close() {
        closed = true;
        if (ownsSegment) {
            segment.close();
        }
    }

    static Segment newSegment(String name, long bytes) {
        return Segment.create(name, bytes, io.multiproc4j.internal.shm.SegmentLayout.KIND_VALUE);
    }

    @Serial
    private void readObject(ObjectInputStream in) throws IOException, ClassNotFoundException {
        in.defaultReadObject();
        segment = Segment.attachCached(segmentName, nonce);
        ownsSegment = false;
    }
}
