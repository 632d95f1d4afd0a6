package io.multiproc4j.internal.shm;

/**
 * The header at the start of every multiproc4j segment file ({@code /dev/shm/mp4j-NAME}). The data
 * that views and primitives use starts at {@link #DATA_OFFSET}, a cache-line boundary.
 *
 * <pre>
 *  0       4       8       12      16              24              32
 *  +-------+-------+-------+-------+---------------+---------------+
 *  |   magic "MP4JSHM1"    |version| kind  |   owner pid   | owner start ticks
 *  +-------+-------+-------+-------+---------------+---------------+
 *  32              40              48              56              64
 *  +---------------+---------------+---------------+---------------+
 *  |   data size   |     nonce     | created (ms)  |   reserved    |
 *  +---------------+---------------+---------------+---------------+
 *  64: data (data size bytes, file rounded up to a page by the kernel)
 * </pre>
 *
 * <ul>
 *   <li><b>magic</b>: written last, with release semantics, so a process that sees it sees a complete
 *       header. A file without it is either being created or was left by a creator that died
 *       between creating and initialising the file.</li>
 *   <li><b>owner pid / start ticks</b>: the creator (see {@link ProcessIdentity}). When that process
 *       is dead, the segment is a leftover and the next start removes it.</li>
 *   <li><b>kind</b>: what the data holds ({@code KIND_*}), so diagnostics can find the locks.</li>
 *   <li><b>nonce</b>: random per creation; a handle carries it, so a worker that cached the mapping
 *       of an earlier segment of the same name does not use it for a new one.</li>
 * </ul>
 * All fields are little-endian (native order on x86-64).
 */
public final class SegmentLayout {
    /** "MP4JSHM1" read as a little-endian long. */
    public static final long MAGIC = 0x314D48534A34504DL;
    /** Layout version; bumped on any incompatible change (2: holder, party and condition waiter records, joinable put intent). */
    public static final int VERSION = 2;

    public static final long MAGIC_OFFSET = 0;
    public static final long VERSION_OFFSET = 8;
    public static final long KIND_OFFSET = 12;
    public static final long OWNER_PID_OFFSET = 16;
    public static final long OWNER_START_OFFSET = 24;
    public static final long DATA_SIZE_OFFSET = 32;
    public static final long NONCE_OFFSET = 40;
    public static final long CREATED_MILLIS_OFFSET = 48;
    /** Where the data starts; also the header size. */
    public static final long DATA_OFFSET = 64;

    /** Raw bytes ({@code SharedMemory}, {@code SharedBytes}). */
    public static final int KIND_RAW = 0;
    /** A typed value or array view. */
    public static final int KIND_VALUE = 1;
    /** {@code ProcessLock} (see {@link LockLayout}). */
    public static final int KIND_LOCK = 10;
    /** {@code ProcessReentrantLock} (see {@link LockLayout}). */
    public static final int KIND_REENTRANT_LOCK = 11;
    /** {@code ProcessSemaphore} (see {@link SemaphoreLayout}). */
    public static final int KIND_SEMAPHORE = 12;
    /** {@code ProcessEvent} (see {@link EventLayout}). */
    public static final int KIND_EVENT = 13;
    /** {@code ProcessBarrier} (see {@link BarrierLayout}). */
    public static final int KIND_BARRIER = 14;

    /** File name prefix in {@code /dev/shm}; everything with it is ours to clean. */
    public static final String FILE_PREFIX = "mp4j-";

    private SegmentLayout() {}
}
