package io.multiproc4j.internal.shm;

/**
 * The data of a {@code ProcessSemaphore} segment.
 *
 * <pre>
 *  0       4       8       12      16              24              64
 *  +-------+-------+-------+-------+---------------+---------------+
 *  |permits|waiters| bound |unused | recovered     |    unused     |
 *  +-------+-------+-------+-------+---------------+---------------+
 *  64: a lock (LockLayout.SIZE bytes; bounded semaphores only)
 *  then HOLDER_SLOTS holder slots of 24 bytes: [pid (8) | start time (8) | held (4) | unused (4)]
 *  then unrecorded (4): permits held but not recorded: by processes that found no free slot, or
 *  missing since creation (a bounded semaphore created with fewer permits than its bound)
 * </pre>
 *
 * <ul>
 *   <li><b>permits</b> (the futex word): available permits. Unbounded: changed by compare-and-set
 *       only. Bounded: changed under the lock only.</li>
 *   <li><b>waiters</b>: threads that may be sleeping; a release wakes one when it is not zero.</li>
 *   <li><b>bound</b>: the most permits a bounded semaphore may hold, or -1 for unbounded.</li>
 *   <li><b>recovered</b>: permits given back because the process holding them died.</li>
 *   <li><b>holder slots</b> (bounded): which process holds how many permits, changed under the lock.
 *       A slot is claimed on a process's first acquire and freed when its count returns to 0.
 *       Invariant, restored after any takeover of the lock: {@code permits + sum(held) +
 *       overflow = bound}.</li>
 * </ul>
 */
public final class SemaphoreLayout {
    public static final long PERMITS_OFFSET = 0;
    public static final long WAITERS_OFFSET = 4;
    public static final long BOUND_OFFSET = 8;
    public static final long RECOVERED_OFFSET = 16;
    public static final long LOCK_OFFSET = 64;
    public static final long HOLDER_SLOTS_OFFSET = LOCK_OFFSET + ((LockLayout.SIZE + 63) & ~63L);
    public static final int HOLDER_SLOTS = 64;
    public static final long HOLDER_SLOT_SIZE = 24;
    public static final long OVERFLOW_OFFSET = HOLDER_SLOTS_OFFSET + HOLDER_SLOTS * HOLDER_SLOT_SIZE;
    public static final long SIZE = OVERFLOW_OFFSET + 8;

    private SemaphoreLayout() {}
}
