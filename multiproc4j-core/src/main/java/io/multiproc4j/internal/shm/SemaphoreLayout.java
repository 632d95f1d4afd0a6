package io.multiproc4j.internal.shm;

/**
 * The data of a {@code ProcessSemaphore} segment.
 *
 * <pre>
 *  0       4       8       12      16
 *  +-------+-------+-------+-------+
 *  |permits|waiters| bound |unused |
 *  +-------+-------+-------+-------+
 * </pre>
 *
 * <ul>
 *   <li><b>permits</b> (the futex word): available permits, changed by compare-and-set only.</li>
 *   <li><b>waiters</b>: threads that may be sleeping; a release wakes one when it is not zero.</li>
 *   <li><b>bound</b>: the most permits a bounded semaphore may hold, or -1 for unbounded.</li>
 * </ul>
 */
public final class SemaphoreLayout {
    public static final long PERMITS_OFFSET = 0;
    public static final long WAITERS_OFFSET = 4;
    public static final long BOUND_OFFSET = 8;
    public static final long SIZE = 16;

    private SemaphoreLayout() {}
}
