package io.multiproc4j.internal.shm;

import static io.multiproc4j.internal.shm.ConditionLayout.*;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;

/**
 * A condition variable in shared memory, bound to a {@link RobustMutex}. Layout: {@link ConditionLayout}.
 *
 * <pre>
 *  await:  [lock held] claim a FREE record: WAITING, cond, ticket, pid, thread ─► release lock
 *          ─► futex-wait(record.state == WAITING) in slices ─► reacquire
 *          ─► CAS WAITING → FREE ok? not signalled (timeout / interrupt) : signalled, state := FREE
 *  signal: [lock held] the WAITING record of this condition with the lowest ticket:
 *          CAS WAITING → SIGNALLED, futex-wake its state word
 *  signalAll: [lock held] every WAITING record of this condition: → SIGNALLED_ALL, wake each
 * </pre>
 *
 * <h2>Concurrency</h2>
 * Every waiter sleeps on the state word of its own record, so a signal wakes exactly the waiter it
 * chose (the oldest: signals are FIFO) and no one else, and a signal sent between the waiter's
 * unlock and its sleep changes the word the kernel compares, so it is never missed. A waiter that
 * finds no free record (more than {@link LockLayout#CONDITION_WAITERS} waiting at once on one
 * lock's conditions) falls back to the condition slot's counters: it reads the sequence word
 * before releasing the lock, and {@code signal()} grants one wakeup there when no recorded waiter
 * waits ({@code waiting} and {@code wakeups} change only under the lock).
 *
 * <h2>Crash handling</h2>
 * A record names its waiter's process (pid and start time). A signal may pick a waiter whose
 * process has died (nothing is checked on the signal path, to keep it a store and a wake): then a
 * live waiter of the same condition, checking once per wait slice ({@link Futex#SLICE_NANOS}) for
 * records SIGNALLED to dead processes, adopts that signal (frees the dead record, marks itself
 * signalled), so a signal is never lost to the dead while someone lives to take it. Dead waiters'
 * records are freed when the table runs full. A waiter that died while signalled by
 * {@code signalAll()} needs nothing: every live waiter was signalled too. Waiters counted in the
 * fallback counters are not recorded, so their death may still cost a later waiter a spurious
 * early return. If the lock's holder died while a waiter was being woken, the waiter returns
 * holding the lock and the lock's {@code recoveredFromDeadHolder()} says so.
 */
public final class RobustCondition {
    private static final VarHandle INT = ValueLayout.JAVA_INT.varHandle();
    private static final VarHandle LONG = ValueLayout.JAVA_LONG.varHandle();

    private final RobustMutex mutex;
    private final MemorySegment memory;
    private final long base;
    private final int index;
    private final long records;

    /**
     * @param mutex the lock the condition belongs to
     * @param base  the slot's offset in the lock's memory
     */
    public RobustCondition(RobustMutex mutex, long base) {
        this.mutex = mutex;
        this.memory = mutex.memory();
        this.base = base;
        this.index = (int) ((base - mutex.base() - LockLayout.CONDITION_SLOTS_OFFSET) / SIZE);
        this.records = mutex.base() + LockLayout.CONDITION_WAITERS_OFFSET;
    }

    /**
     * Waits for a signal; the lock must be held and is held again on return (also on exception).
     *
     * @param timeoutNanos   a negative value to wait forever
     * @param interruptible  whether an interrupt ends the wait
     * @return whether a signal arrived (false: the timeout elapsed)
     * @throws InterruptedException when interruptible and interrupted
     */
    public boolean await(long timeoutNanos, boolean interruptible) throws InterruptedException {
        mutex.checkHeld("await a condition of");
        if (interruptible && Thread.interrupted()) {
            throw new InterruptedException();
        }
        long deadline = timeoutNanos < 0 ? Long.MAX_VALUE : System.nanoTime() + timeoutNanos;
        long record = claimRecord();
        if (record >= 0) {
            return awaitRecorded(record, deadline, interruptible);
        }
        add(WAITING_OFFSET, 1);
        return awaitLoop(deadline, interruptible);
    }

    private boolean awaitRecorded(long record, long deadline, boolean interruptible) throws InterruptedException {
        int holds = mutex.releaseFully();
        boolean interrupted = false;
        boolean pendingInterrupt = false;
        long lastCheck = System.nanoTime();
        while (state(record) == WAITING) {
            long remaining = deadline - System.nanoTime();
            if (remaining <= 0) {
                break;
            }
            Futex.await(memory, record + WAITER_STATE_OFFSET, WAITING, remaining);
            if (Thread.interrupted()) {
                if (interruptible) {
                    interrupted = true;
                    break;
                }
                pendingInterrupt = true; // uninterruptible: keep waiting, restore the status on return
            }
            long now = System.nanoTime();
            if (now - lastCheck >= Futex.SLICE_NANOS && state(record) == WAITING) {
                lastCheck = now;
                adoptSignalOfDeadWaiter(record);
            }
        }
        mutex.reacquire(holds);
        // Under the lock again: the record is ours to free. A compare-and-set, since a waiter
        // adopting a dead one's signal may mark it SIGNALLED without the lock.
        boolean signalled = !INT.compareAndSet(memory, record + WAITER_STATE_OFFSET, WAITING, FREE);
        if (signalled) {
            INT.setRelease(memory, record + WAITER_STATE_OFFSET, FREE);
            if (interrupted || pendingInterrupt) {
                Thread.currentThread().interrupt(); // signalled first: return normally, keep the status
            }
            return true;
        }
        if (interrupted) {
            throw new InterruptedException();
        }
        if (pendingInterrupt) {
            Thread.currentThread().interrupt();
        }
        return false;
    }

    /** Under the lock: a FREE record, now WAITING for this condition, or -1 when all are taken. */
    private long claimRecord() {
        for (int attempt = 0; attempt < 2; attempt++) {
            for (int i = 0; i < LockLayout.CONDITION_WAITERS; i++) {
                long record = records + i * WAITER_SIZE;
                if (state(record) == FREE) {
                    long ticket = (long) LONG.getAcquire(memory, mutex.base() + LockLayout.CONDITION_TICKETS_OFFSET);
                    LONG.setRelease(memory, mutex.base() + LockLayout.CONDITION_TICKETS_OFFSET, ticket + 1);
                    INT.setRelease(memory, record + WAITER_CONDITION_OFFSET, index);
                    LONG.setRelease(memory, record + WAITER_TICKET_OFFSET, ticket);
                    LONG.setRelease(memory, record + WAITER_PID_OFFSET, ProcessIdentity.PID);
                    LONG.setRelease(memory, record + WAITER_START_OFFSET, ProcessIdentity.START_TIME);
                    LONG.setRelease(memory, record + WAITER_THREAD_OFFSET, Thread.currentThread().threadId());
                    INT.setVolatile(memory, record + WAITER_STATE_OFFSET, WAITING);
                    return record;
                }
            }
            freeDeadRecords();
        }
        return -1;
    }

    /** The table is full: free the records of waiters whose process died (their signals are passed on). */
    private void freeDeadRecords() {
        for (int i = 0; i < LockLayout.CONDITION_WAITERS; i++) {
            long record = records + i * WAITER_SIZE;
            int state = state(record);
            if (state != FREE && isDead(record)) {
                long sentAt = (long) LONG.getVolatile(memory, record + WAITER_SIGNAL_TICKET_OFFSET);
                if (INT.compareAndSet(memory, record + WAITER_STATE_OFFSET, state, FREE) && state == SIGNALLED) {
                    passOn((int) INT.getAcquire(memory, record + WAITER_CONDITION_OFFSET), -1, sentAt);
                }
            }
        }
    }

    /**
     * A sleeping waiter's check, once per slice: a signal given to a waiter whose process died goes
     * to this waiter instead (or, if this one was signalled meanwhile, to another live waiter), if
     * this waiter was already waiting when it was sent: a signal sent while nobody alive waited
     * wakes nobody, as it would have in one JVM.
     */
    private void adoptSignalOfDeadWaiter(long own) {
        long ownTicket = (long) LONG.getVolatile(memory, own + WAITER_TICKET_OFFSET);
        for (int i = 0; i < LockLayout.CONDITION_WAITERS; i++) {
            long record = records + i * WAITER_SIZE;
            if (record == own || (int) INT.getVolatile(memory, record + WAITER_CONDITION_OFFSET) != index) {
                continue;
            }
            int state = state(record);
            if (state != SIGNALLED && state != SIGNALLED_ALL || !isDead(record)) {
                continue;
            }
            long sentAt = (long) LONG.getVolatile(memory, record + WAITER_SIGNAL_TICKET_OFFSET);
            if (state == SIGNALLED_ALL || sentAt <= ownTicket) {
                // every live waiter got signalAll's signal; a signal sent before this waiter came
                // is not its to take: just free the record (the signal had no live taker)
                INT.compareAndSet(memory, record + WAITER_STATE_OFFSET, state, FREE);
                continue;
            }
            if (INT.compareAndSet(memory, record + WAITER_STATE_OFFSET, SIGNALLED, FREE)) {
                LONG.setVolatile(memory, own + WAITER_SIGNAL_TICKET_OFFSET, sentAt);
                if (!INT.compareAndSet(memory, own + WAITER_STATE_OFFSET, WAITING, SIGNALLED)) {
                    passOn(index, own, sentAt);
                }
                return;
            }
        }
    }

    /**
     * Gives a signal sent when the ticket counter stood at {@code sentAt} to the oldest WAITING
     * record of condition {@code cond} (other than {@code except}) that was waiting then.
     */
    private void passOn(int cond, long except, long sentAt) {
        for (;;) {
            long chosen = oldestWaiting(cond, except);
            if (chosen < 0 || (long) LONG.getVolatile(memory, chosen + WAITER_TICKET_OFFSET) >= sentAt) {
                return; // nobody waits who waited then: the signal wakes nobody, as a signal to no waiter
            }
            LONG.setVolatile(memory, chosen + WAITER_SIGNAL_TICKET_OFFSET, sentAt);
            if (INT.compareAndSet(memory, chosen + WAITER_STATE_OFFSET, WAITING, SIGNALLED)) {
                Futex.wake(memory, chosen + WAITER_STATE_OFFSET, 1);
                return;
            }
        }
    }

    private long oldestWaiting(int cond, long except) {
        long chosen = -1;
        long chosenTicket = Long.MAX_VALUE;
        for (int i = 0; i < LockLayout.CONDITION_WAITERS; i++) {
            long record = records + i * WAITER_SIZE;
            if (record != except && state(record) == WAITING
                    && (int) INT.getVolatile(memory, record + WAITER_CONDITION_OFFSET) == cond) {
                long ticket = (long) LONG.getVolatile(memory, record + WAITER_TICKET_OFFSET);
                if (ticket < chosenTicket) {
                    chosen = record;
                    chosenTicket = ticket;
                }
            }
        }
        return chosen;
    }

    private boolean isDead(long record) {
        long pid = (long) LONG.getVolatile(memory, record + WAITER_PID_OFFSET);
        return pid != ProcessIdentity.PID
                && !ProcessIdentity.isAlive(pid, (long) LONG.getVolatile(memory, record + WAITER_START_OFFSET));
    }

    private int state(long record) {
        return (int) INT.getVolatile(memory, record + WAITER_STATE_OFFSET);
    }

    private boolean awaitLoop(long deadline, boolean interruptible) throws InterruptedException {
        boolean pendingInterrupt = false;
        for (;;) {
            int seq = (int) INT.getVolatile(memory, base + SEQ_OFFSET);
            int holds = mutex.releaseFully();
            boolean timedOut = false;
            boolean interrupted = false;
            for (;;) {
                long remaining = deadline - System.nanoTime();
                if (remaining <= 0) {
                    timedOut = true;
                    break;
                }
                Futex.await(memory, base + SEQ_OFFSET, seq, remaining);
                if (Thread.interrupted()) {
                    if (interruptible) {
                        interrupted = true;
                        break;
                    }
                    pendingInterrupt = true; // uninterruptible: keep waiting, restore the status on return
                }
                if ((int) INT.getVolatile(memory, base + SEQ_OFFSET) != seq) {
                    break;
                }
            }
            mutex.reacquire(holds);
            if ((int) INT.getVolatile(memory, base + WAKEUPS_OFFSET) > 0) {
                add(WAKEUPS_OFFSET, -1);
                if (interrupted || pendingInterrupt) {
                    Thread.currentThread().interrupt(); // signalled first: return normally, keep the status
                }
                return true;
            }
            if (interrupted) {
                add(WAITING_OFFSET, -1);
                throw new InterruptedException();
            }
            if (timedOut) {
                add(WAITING_OFFSET, -1);
                if (pendingInterrupt) {
                    Thread.currentThread().interrupt();
                }
                return false;
            }
        }
    }

    /** Wakes one waiter, if any (the oldest recorded one first); the lock must be held. */
    public void signal() {
        mutex.checkHeld("signal a condition of");
        long sentAt = (long) LONG.getAcquire(memory, mutex.base() + LockLayout.CONDITION_TICKETS_OFFSET);
        for (;;) {
            long chosen = oldestWaiting(index, -1);
            if (chosen < 0) {
                break;
            }
            // the next ticket: waiters with a lower one were waiting when this signal was sent
            LONG.setVolatile(memory, chosen + WAITER_SIGNAL_TICKET_OFFSET, sentAt);
            if (INT.compareAndSet(memory, chosen + WAITER_STATE_OFFSET, WAITING, SIGNALLED)) {
                Futex.wake(memory, chosen + WAITER_STATE_OFFSET, 1);
                return;
            }
        }
        if ((int) INT.getVolatile(memory, base + WAITING_OFFSET) > 0) {
            add(WAITING_OFFSET, -1);
            add(WAKEUPS_OFFSET, 1);
            INT.getAndAdd(memory, base + SEQ_OFFSET, 1);
            Futex.wake(memory, base + SEQ_OFFSET, 1);
        }
    }

    /** Wakes every waiter; the lock must be held. */
    public void signalAll() {
        mutex.checkHeld("signal a condition of");
        for (int i = 0; i < LockLayout.CONDITION_WAITERS; i++) {
            long record = records + i * WAITER_SIZE;
            if ((int) INT.getVolatile(memory, record + WAITER_CONDITION_OFFSET) == index
                    && INT.compareAndSet(memory, record + WAITER_STATE_OFFSET, WAITING, SIGNALLED_ALL)) {
                Futex.wake(memory, record + WAITER_STATE_OFFSET, 1);
            }
        }
        int waiting = (int) INT.getVolatile(memory, base + WAITING_OFFSET);
        if (waiting > 0) {
            INT.setVolatile(memory, base + WAITING_OFFSET, 0);
            add(WAKEUPS_OFFSET, waiting);
            INT.getAndAdd(memory, base + SEQ_OFFSET, 1);
            Futex.wake(memory, base + SEQ_OFFSET, Integer.MAX_VALUE);
        }
    }

    /** @return live waiters not yet signalled (read without the lock: a hint) */
    public int waiting() {
        int n = (int) INT.getVolatile(memory, base + WAITING_OFFSET);
        for (int i = 0; i < LockLayout.CONDITION_WAITERS; i++) {
            long record = records + i * WAITER_SIZE;
            if (state(record) == WAITING && (int) INT.getVolatile(memory, record + WAITER_CONDITION_OFFSET) == index
                    && !isDead(record)) {
                n++;
            }
        }
        return n;
    }

    private void add(long offset, int delta) {
        INT.getAndAdd(memory, base + offset, delta);
    }
}
