package io.multiproc4j.internal.shm;

/**
 * The data of a {@code ProcessEvent} segment.
 *
 * <pre>
 *  0       4       8
 *  +-------+-------+
 *  | flag  |waiters|
 *  +-------+-------+
 * </pre>
 *
 * <ul>
 *   <li><b>flag</b> (the futex word): 1 when set, 0 when clear.</li>
 *   <li><b>waiters</b>: threads that may be sleeping; {@code set()} skips the system call when 0.</li>
 * </ul>
 */
public final class EventLayout {
    public static final long FLAG_OFFSET = 0;
    public static final long WAITERS_OFFSET = 4;
    public static final long SIZE = 8;

    private EventLayout() {}
}
