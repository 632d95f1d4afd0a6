package io.multiproc4j.internal.shm;

/**
 * One condition slot inside a lock segment (see {@link LockLayout#CONDITION_SLOTS_OFFSET}).
 *
 * <pre>
 *  0       4       8       12      16
 *  +-------+-------+-------+-------+
 *  |  seq  |waiting|wakeups| unused|
 *  +-------+-------+-------+-------+
 * </pre>
 *
 * <ul>
 *   <li><b>seq</b> (the futex word): bumped by every signal, so a waiter that read it before
 *       releasing the lock cannot miss a signal sent after.</li>
 *   <li><b>waiting</b>: waiters not yet signalled.</li>
 *   <li><b>wakeups</b>: signals granted and not yet consumed; a woken waiter consumes one.</li>
 * </ul>
 * {@code waiting} and {@code wakeups} change only while the condition's lock is held.
 */
public final class ConditionLayout {
    public static final long SEQ_OFFSET = 0;
    public static final long WAITING_OFFSET = 4;
    public static final long WAKEUPS_OFFSET = 8;
    public static final long SIZE = 16;

    private ConditionLayout() {}
}
