package io.multiproc4j.internal.shm;

/**
 * The data of a {@code ProcessBarrier} segment: its state, then an embedded lock that guards it.
 *
 * <pre>
 *  0       4       8       12      16      20      24              64
 *  +-------+-------+-------+-------+-------+-------+---------------+
 *  |  gen  |parties| count |broken |resetGn| epoch |    unused     |
 *  +-------+-------+-------+-------+-------+-------+---------------+
 *  64: a lock (LockLayout.SIZE bytes) guarding count, broken and resetGen
 * </pre>
 *
 * <ul>
 *   <li><b>gen</b>: the generation; bumped when the barrier trips or is reset.</li>
 *   <li><b>count</b>: parties arrived in the current generation.</li>
 *   <li><b>broken</b>: 1 when the current generation is broken (timeout, interrupt, abort).</li>
 *   <li><b>resetGen</b>: the last generation that ended by {@code reset()} while parties waited: its
 *       waiters must throw {@code BrokenBarrierException}, not return. Stored as generation + 1
 *       (0: none).</li>
 *   <li><b>epoch</b> (the futex word): bumped on every change waiters must see (trip, break, reset),
 *       so a waiter that read it under the lock cannot miss the change after releasing it.</li>
 * </ul>
 */
public final class BarrierLayout {
    public static final long GEN_OFFSET = 0;
    public static final long PARTIES_OFFSET = 4;
    public static final long COUNT_OFFSET = 8;
    public static final long BROKEN_OFFSET = 12;
    public static final long RESET_GEN_OFFSET = 16;
    public static final long EPOCH_OFFSET = 20;
    public static final long LOCK_OFFSET = 64;
    public static final long SIZE = LOCK_OFFSET + LockLayout.SIZE;

    private BarrierLayout() {}
}
