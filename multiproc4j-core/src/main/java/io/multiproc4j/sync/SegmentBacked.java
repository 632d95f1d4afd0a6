package io.multiproc4j.sync;

import io.multiproc4j.internal.shm.Segment;
import java.io.IOException;
import java.io.ObjectInputStream;
import java.io.Serial;
import java.io.Serializable;
import java.lang.foreign.MemorySegment;

/**
 * What every process primitive shares: a segment of its own, and how the handle travels.
 *
 * <p>Only the segment's name and creation nonce are serialized; reading them back maps the segment
 * once per JVM ({@code Segment.attachCached}), or reuses the creator's mapping in the creating
 * process. The creator's {@link #close()} unmaps the segment and removes its name; an attached or
 * deserialized handle's {@code close()} does not disturb others.
 */
abstract sealed class SegmentBacked implements AutoCloseable, Serializable
        permits AbstractProcessLock, ProcessSemaphore, ProcessEvent, ProcessBarrier {
    @Serial
    private static final long serialVersionUID = 1L;

    private final String segmentName;
    private final long nonce;
    private transient Segment segment;
    private transient boolean ownsMapping;

    SegmentBacked(Segment segment) {
        this.segmentName = segment.name();
        this.nonce = segment.nonce();
        this.segment = segment;
        this.ownsMapping = true;
    }

    /** @return the memory of the primitive; fails clearly after close */
    final MemorySegment memory() {
        if (segment.isClosed()) {
            throw new IllegalStateException(kindName(getClass(), segmentName) + " is closed; it cannot be used after close()");
        }
        return segment.data();
    }

    final Segment segment() {
        return segment;
    }

    /** @return the name other processes attach by */
    public final String name() {
        return segmentName;
    }

    /**
     * Stops using this handle. The creator's handle also removes the primitive: other processes that
     * hold a handle keep working, new attaches fail. In this process the memory is unmapped: threads
     * still using or waiting on the primitive fail with {@link IllegalStateException}, so close it
     * when no one here uses it any more. Idempotent.
     */
    @Override
    public void close() {
        if (ownsMapping) {
            segment.close();
        }
    }

    static String kindName(Class<?> type, String name) {
        return type.getSimpleName() + " '" + name + "'";
    }

    static Segment attachKind(String name, int kind, Class<?> type) {
        Segment segment = Segment.attach(name);
        if (segment.kind() != kind) {
            segment.close();
            throw new IllegalArgumentException("shared memory '" + name + "' is not a " + type.getSimpleName()
                    + " (kind " + segment.kind() + ")");
        }
        return segment;
    }

    @Serial
    private void readObject(ObjectInputStream in) throws IOException, ClassNotFoundException {
        in.defaultReadObject();
        segment = Segment.attachCached(segmentName, nonce);
        ownsMapping = false;
    }
}
