package io.multiproc4j.internal.shm;

/**
 * The data of a process lock segment (see {@link RobustMutex}).
 *
 * <pre>
 *  0       4       8               16              24              32
 *  +-------+-------+---------------+---------------+---------------+
 *  | word  | holds | holder pid    | holder start  | holder thread |
 *  +-------+-------+---------------+---------------+---------------+
 *  32      36      40              48              56              64
 *  +-------+-------+---------------+---------------+---------------+
 *  |waiters|recovd | recoveries    | conditions    | cond. tickets |
 *  +-------+-------+---------------+---------------+---------------+
 *  64: waiter slots, WAITER_SLOTS x 16 bytes: [pid (8) | thread id (8)]
 *  64 + 16 * WAITER_SLOTS: condition slots, CONDITION_SLOTS x 16 bytes (see ConditionLayout)
 *  then condition waiter records, CONDITION_WAITERS x 48 bytes (see ConditionLayout)
 * </pre>
 *
 * <ul>
 *   <li><b>word</b> (the futex word): 0 when free; else {@code pid | WAITERS_BIT?}: the holder's pid
 *       in the low 30 bits, set by the compare-and-set that acquires, so the holder's pid is known
 *       atomically with the acquisition (a holder that dies right after its CAS is still named).</li>
 *   <li><b>holds</b>: hold count (reentrant lock), written by the holder only.</li>
 *   <li><b>holder pid / start / thread</b>: written by the holder after its CAS, cleared before it
 *       releases; the start time tells a reused pid from the holder.</li>
 *   <li><b>waiters</b>: how many threads (of all processes) are blocked; diagnostics only.</li>
 *   <li><b>recovd</b>: 1 when the current hold was taken over from a dead holder.</li>
 *   <li><b>recoveries</b>: how many times a dead holder's lock was taken over.</li>
 *   <li><b>conditions</b>: how many condition slots {@code newCondition()} has handed out.</li>
 *   <li><b>cond. tickets</b>: the next condition waiter's ticket (waiters are signalled in ticket
 *       order), changed under the lock.</li>
 * </ul>
 */
public final class LockLayout {
    public static final long WORD_OFFSET = 0;
    public static final long HOLDS_OFFSET = 4;
    public static final long HOLDER_PID_OFFSET = 8;
    public static final long HOLDER_START_OFFSET = 16;
    public static final long HOLDER_THREAD_OFFSET = 24;
    public static final long WAITERS_OFFSET = 32;
    public static final long RECOVERED_OFFSET = 36;
    public static final long RECOVERIES_OFFSET = 40;
    public static final long CONDITIONS_OFFSET = 48;
    public static final long CONDITION_TICKETS_OFFSET = 56;
    public static final long WAITER_SLOTS_OFFSET = 64;
    public static final int WAITER_SLOTS = 16;
    public static final long WAITER_SLOT_SIZE = 16;
    public static final long CONDITION_SLOTS_OFFSET = WAITER_SLOTS_OFFSET + WAITER_SLOTS * WAITER_SLOT_SIZE;
    public static final int CONDITION_SLOTS = 16;
    public static final long CONDITION_WAITERS_OFFSET = CONDITION_SLOTS_OFFSET + CONDITION_SLOTS * ConditionLayout.SIZE;
    /** Waiters (of all the lock's conditions together) that are recorded by process; more are only counted. */
    public static final int CONDITION_WAITERS = 64;
    /** Bytes a lock needs. */
    public static final long SIZE = CONDITION_WAITERS_OFFSET + CONDITION_WAITERS * ConditionLayout.WAITER_SIZE;

    /** Set in the word when some thread may be sleeping on it: the releaser must wake one. */
    public static final int WAITERS_BIT = 1 << 30;
    /** The holder's pid within the word. */
    public static final int PID_MASK = WAITERS_BIT - 1;

    private LockLayout() {}
}
