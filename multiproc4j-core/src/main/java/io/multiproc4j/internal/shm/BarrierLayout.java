package io.multiproc4j.internal.shm;

/**
 * The data of a {@code ProcessBarrier} segment: its state, then an embedded lock that guards it.
 *
 * <pre>
 *  0       4       8       12      16      20      24              32              64
 *  +-------+-------+-------+-------+-------+-------+---------------+---------------+
 *  |  gen  |parties| count |broken |resetGn| epoch | broken by pid |    unused     |
 *  +-------+-------+-------+-------+-------+-------+---------------+---------------+
 *  64: a lock (LockLayout.SIZE bytes) guarding everything but the epoch
 *  then PARTY_SLOTS party slots of 16 bytes: [pid (8) | start time (8)], 0: free
 * </pre>
 *
 * <ul>
 *   <li><b>gen</b>: the generation; bumped when the barrier trips or is reset.</li>
 *   <li><b>count</b>: parties arrived in the current generation.</li>
 *   <li><b>broken</b>: 1 when the current generation is broken (timeout, interrupt, abort).</li>
 *   <li><b>resetGen</b>: the last generation that ended by {@code reset()} while parties waited: its
 *       waiters must throw {@code BrokenBarrierException}, not return. Stored as generation + 1
 *       (0: none).</li>
 *   <li><b>broken by pid</b>: why the generation broke: the pid of a party whose process died,
 *       -1 for a dead lock holder that was not recorded, 0 for any other reason.</li>
 *   <li><b>party slots</b>: the processes of the parties waiting in the current generation, each
 *       written by the party on arrival, all cleared when the generation ends (trip, break, reset).</li>
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
    public static final long BROKEN_BY_DEAD_OFFSET = 24;
    public static final long LOCK_OFFSET = 64;
    public static final long PARTY_SLOTS_OFFSET = LOCK_OFFSET + ((LockLayout.SIZE + 63) & ~63L);
    public static final int PARTY_SLOTS = 64;
    public static final long PARTY_SLOT_SIZE = 16;
    public static final long SIZE = PARTY_SLOTS_OFFSET + PARTY_SLOTS * PARTY_SLOT_SIZE;

    private BarrierLayout() {}
}
