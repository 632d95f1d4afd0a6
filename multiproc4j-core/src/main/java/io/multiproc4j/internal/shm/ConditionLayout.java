package io.multiproc4j.internal.shm;

/**
 * One condition slot inside a lock segment (see {@link LockLayout#CONDITION_SLOTS_OFFSET}), and the
 * waiter records all of the lock's conditions share ({@link LockLayout#CONDITION_WAITERS_OFFSET}).
 *
 * <pre>
 *  condition slot
 *  0       4       8       12      16
 *  +-------+-------+-------+-------+
 *  |  seq  |waiting|wakeups| unused|
 *  +-------+-------+-------+-------+
 *
 *  waiter record
 *  0       4       8               16              24              32              40              48
 *  +-------+-------+---------------+---------------+---------------+---------------+---------------+
 *  | state | cond  |    ticket     |      pid      |  start time   |   thread id   | signal ticket |
 *  +-------+-------+---------------+---------------+---------------+---------------+---------------+
 * </pre>
 *
 * <ul>
 *   <li>The slot's counters serve only waiters that found no free record (more than
 *       {@link LockLayout#CONDITION_WAITERS} at once): <b>seq</b> (the futex word) is bumped by
 *       every signal, so a waiter that read it before releasing the lock cannot miss a signal sent
 *       after; <b>waiting</b>: such waiters not yet signalled; <b>wakeups</b>: signals granted to
 *       them and not yet consumed. They change only while the condition's lock is held.</li>
 *   <li><b>state</b> (a record's futex word, its waiter sleeps on it): {@link #FREE},
 *       {@link #WAITING}, {@link #SIGNALLED} (by {@code signal()}: exactly this waiter wakes) or
 *       {@link #SIGNALLED_ALL} (by {@code signalAll()}). Claimed (FREE → WAITING) and freed by its
 *       waiter under the lock; WAITING → SIGNALLED* by compare-and-set, by a signaller under the
 *       lock or by a waiter that adopts the signal of a dead one; a dead waiter's record
 *       SIGNALLED* → FREE by compare-and-set.</li>
 *   <li><b>cond</b>: which of the lock's condition slots the waiter waits on.</li>
 *   <li><b>ticket</b>: arrival order; {@code signal()} picks the lowest.</li>
 *   <li><b>signal ticket</b>: the next ticket when {@code signal()} signalled this record: the
 *       waiters with a lower ticket were waiting then, and only they may adopt the signal if this
 *       waiter's process died.</li>
 *   <li><b>pid / start time / thread id</b>: the waiter (see {@link ProcessIdentity}).</li>
 * </ul>
 */
public final class ConditionLayout {
    public static final long SEQ_OFFSET = 0;
    public static final long WAITING_OFFSET = 4;
    public static final long WAKEUPS_OFFSET = 8;
    public static final long SIZE = 16;

    public static final long WAITER_STATE_OFFSET = 0;
    public static final long WAITER_CONDITION_OFFSET = 4;
    public static final long WAITER_TICKET_OFFSET = 8;
    public static final long WAITER_PID_OFFSET = 16;
    public static final long WAITER_START_OFFSET = 24;
    public static final long WAITER_THREAD_OFFSET = 32;
    public static final long WAITER_SIGNAL_TICKET_OFFSET = 40;
    public static final long WAITER_SIZE = 48;

    public static final int FREE = 0;
    public static final int WAITING = 1;
    public static final int SIGNALLED = 2;
    public static final int SIGNALLED_ALL = 3;

    private ConditionLayout() {}
}
