package io.multiproc4j.shared;

import io.multiproc4j.internal.shm.Segment;
import io.multiproc4j.internal.shm.SegmentLayout;
import java.io.IOException;
import java.io.ObjectInputStream;
import java.io.Serial;
import java.io.Serializable;
import java.lang.foreign.MemorySegment;
import java.util.List;

/**
 * A named block of memory shared by processes on this machine: a file in {@code /dev/shm} mapped
 * into each process with the Foreign Function &amp; Memory API. Python's
 * {@code multiprocessing.shared_memory.SharedMemory}, with typed views on top
 * ({@link SharedLong#at}, {@link SharedDoubleArray#at}, {@link SharedBytes#at}).
 *
 * {@snippet :
 * try (SharedMemory memory = SharedMemory.create("frames", 1 << 20)) {      // this process owns it
 *     SharedLongArray header = SharedLongArray.at(memory, 0, 16);
 *     // in another process:  try (SharedMemory same = SharedMemory.attach("frames")) { ... }
 * }   // the owner's close() unmaps and removes the name
 * }
 *
 * <h2>Lifetime</h2>
 * <ul>
 *   <li>{@link #create} makes the segment and owns it; {@link #close()} by the owner unmaps it and
 *       removes its name ({@code unlink}). Processes that still map it keep working; new
 *       {@link #attach} calls fail.</li>
 *   <li>{@link #attach} maps an existing segment; its {@code close()} only unmaps.</li>
 *   <li>{@link #unlink()} removes the name early (any process may call it once).</li>
 *   <li>When the owner dies without closing, the segment's header still names it (pid and start
 *       time); the next {@code create} in any JVM (or {@link #removeLeftovers()}) removes it.</li>
 * </ul>
 *
 * <h2>Errors</h2>
 * Creating a name that exists or attaching to a missing one throws {@link SharedMemoryException};
 * a size {@code <= 0} or a bad name {@link IllegalArgumentException}; a second {@code unlink()} or
 * any use after {@code close()} {@link IllegalStateException}. Each message names the segment.
 *
 * <p>The handle is {@link Serializable}: a task that captures it attaches in the worker (once per
 * worker JVM). Linux x86-64 only.
 */
public final class SharedMemory implements AutoCloseable, Serializable {
    @Serial
    private static final long serialVersionUID = 1L;

    private final String name;
    private final long nonce;
    private transient Segment segment;
    private transient boolean ownsMapping;

    private SharedMemory(Segment segment, boolean ownsMapping) {
        this.name = segment.name();
        this.nonce = segment.nonce();
        this.segment = segment;
        this.ownsMapping = ownsMapping;
    }

    /**
     * @param name the name (1 to 200 letters, digits, {@code . _ -})
     * @param size bytes, {@code > 0}; the memory starts zero-filled
     * @return the new segment, owned by this process
     * @throws SharedMemoryException    when a segment of that name exists
     * @throws IllegalArgumentException on a bad name or size
     */
    public static SharedMemory create(String name, long size) {
        return new SharedMemory(Segment.create(name, size, SegmentLayout.KIND_RAW), true);
    }

    /**
     * @param size bytes, {@code > 0}
     * @return a new segment with a generated name ({@link #name()}), owned by this process
     */
    public static SharedMemory create(long size) {
        return new SharedMemory(Segment.create(null, size, SegmentLayout.KIND_RAW), true);
    }

    /**
     * @param name the name of an existing segment
     * @return a mapping of it, not the owner
     * @throws SharedMemoryException when there is no such segment
     */
    public static SharedMemory attach(String name) {
        return new SharedMemory(Segment.attach(name), true);
    }

    /**
     * Removes the segments whose owner process died without closing them. Runs by itself on a JVM's
     * first {@code create}; call it to clean up at another time.
     *
     * @return the names removed
     */
    public static List<String> removeLeftovers() {
        return Segment.removeLeftovers();
    }

    /** @return the name other processes attach by */
    public String name() {
        return name;
    }

    /** @return the size of the data in bytes */
    public long size() {
        return segment.dataSize();
    }

    /** @return whether this process created (and so will remove) the segment */
    public boolean isOwner() {
        return segment.isOwner();
    }

    /**
     * @return the data as a {@link MemorySegment}, for bulk and typed access with the FFM API
     * @throws IllegalStateException after close
     */
    public MemorySegment asSegment() {
        return segment.data();
    }

    /**
     * Removes the name now: new attaches fail; existing mappings keep working.
     *
     * @throws IllegalStateException when this handle already unlinked it, or the name is gone
     */
    public void unlink() {
        segment.unlink();
    }

    /** Unmaps; the owner also removes the name (unless unlinked already). Idempotent. */
    @Override
    public void close() {
        if (ownsMapping) {
            segment.close();
        }
    }

    Segment segment() {
        if (segment.isClosed()) {
            throw segment.closedError();
        }
        return segment;
    }

    @Override
    public String toString() {
        return "SharedMemory[" + name + ", " + segment.dataSize() + " bytes" + (segment.isOwner() ? ", owner" : "")
                + "]";
    }

    @Serial
    private void readObject(ObjectInputStream in) throws IOException, ClassNotFoundException {
        in.defaultReadObject();
        segment = Segment.attachCached(name, nonce);
        ownsMapping = false;
    }
}
