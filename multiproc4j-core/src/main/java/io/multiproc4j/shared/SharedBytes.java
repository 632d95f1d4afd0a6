package io.multiproc4j.shared;

import io.multiproc4j.internal.shm.Segment;
import java.io.Serial;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Objects;

/**
 * Raw bytes in shared memory, without atomicity: for bulk data that processes exchange under some
 * other synchronization (a {@code ProcessLock}, an event, a barrier). Serializable like every view.
 *
 * {@snippet :
 * try (SharedBytes buffer = SharedBytes.create(4096)) {
 *     buffer.write(0, "hello".getBytes(StandardCharsets.UTF_8));
 *     pool.applyAsync(b -> new String(b.read(0, 5), StandardCharsets.UTF_8), buffer);  // "hello"
 * }
 * }
 */
public final class SharedBytes extends SharedView {
    @Serial
    private static final long serialVersionUID = 1L;

    private final long size;

    private SharedBytes(Segment segment, boolean owns, long offset, long size) {
        super(segment, owns, offset, size, 1, false);
        this.size = size;
    }

    /**
     * @param size bytes, {@code > 0}
     * @return new zero-filled bytes in their own segment with a generated name; close them when done
     */
    public static SharedBytes create(long size) {
        return create(null, size);
    }

    /**
     * @param name the segment name; other processes {@link #attach} by it
     * @param size bytes, {@code > 0}
     * @return new zero-filled bytes in their own segment
     * @throws SharedMemoryException when the name is taken
     */
    public static SharedBytes create(String name, long size) {
        return new SharedBytes(newSegment(name, size), true, 0, size);
    }

    /**
     * @param name the name given to {@link #create(String, long)}
     * @return a view of all its bytes
     * @throws SharedMemoryException when there is no such segment
     */
    public static SharedBytes attach(String name) {
        Segment segment = Segment.attach(name);
        return new SharedBytes(segment, true, 0, segment.dataSize());
    }

    /**
     * @param memory a segment
     * @param offset first byte
     * @param size   bytes
     * @return a view of that range; it does not own {@code memory}
     */
    public static SharedBytes at(SharedMemory memory, long offset, long size) {
        return new SharedBytes(memory.segment(), false, offset, size);
    }

    /** @return the number of bytes */
    public long size() {
        return size;
    }

    /**
     * @param index byte index
     * @return the byte
     */
    public byte get(long index) {
        return memory().get(ValueLayout.JAVA_BYTE, offset + Objects.checkIndex(index, size));
    }

    /**
     * @param index byte index
     * @param value the new byte
     */
    public void set(long index, byte value) {
        memory().set(ValueLayout.JAVA_BYTE, offset + Objects.checkIndex(index, size), value);
    }

    /**
     * @param index  first byte to read
     * @param length how many
     * @return a copy of those bytes
     */
    public byte[] read(long index, int length) {
        Objects.checkFromIndexSize(index, length, size);
        byte[] bytes = new byte[length];
        MemorySegment.copy(memory(), ValueLayout.JAVA_BYTE, offset + index, bytes, 0, length);
        return bytes;
    }

    /**
     * @param index first byte to write
     * @param bytes what to write there
     */
    public void write(long index, byte[] bytes) {
        Objects.checkFromIndexSize(index, bytes.length, size);
        MemorySegment.copy(bytes, 0, memory(), ValueLayout.JAVA_BYTE, offset + index, bytes.length);
    }

    /** @return the bytes as a {@link MemorySegment} (for bulk and typed access; invalid after close) */
    public MemorySegment asSegment() {
        return memory().asSlice(offset, size);
    }

    @Override
    public String toString() {
        return "SharedBytes[" + name() + ", " + size + " bytes]";
    }
}
