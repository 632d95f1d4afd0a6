package io.multiproc4j.internal.shm;

import static io.multiproc4j.internal.shm.ConditionLayout.*;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;

/**
 * A condition variable in shared memory, bound to a {@link RobustMutex}. Layout: {@link ConditionLayout}.
 *
 * <pre>
 *  await:  [lock held] waiting++ ─► seq0 := seq ─► release lock ─► futex-wait(seq == seq0)
 *          ─► reacquire ─► wakeups > 0 ? consume one, return : (timeout ? waiting--, return false : wait again)
 *  signal: [lock held] waiting > 0 ? waiting--, wakeups++, seq++, futex-wake 1
 *  signalAll: [lock held] wakeups += waiting, waiting := 0, seq++, futex-wake all
 * </pre>
 *
 * <h2>Concurrency</h2>
 * {@code waiting} and {@code wakeups} change only under the lock, so a signal grants exactly one
 * wakeup and {@code signal()} wakes exactly one waiter (as CPython's {@code notify(1)} is tested to).
 * The sequence word closes the classic lost-wakeup window: a waiter reads it before releasing the
 * lock and the kernel compares it when queueing the waiter, so a signal sent in between makes the
 * wait return at once. A waiter may wake without a wakeup to take (another waiter consumed it
 * first); it then waits again, so callers never see that.
 *
 * <h2>Crash handling</h2>
 * A process that dies while waiting stays counted in {@code waiting}; a later signal may grant its
 * wakeup to nobody and a later waiter may then return early. Conditions allow spurious wakeups, and
 * callers re-check their predicate in a loop, so this only costs a loop turn.
 */
public final class RobustCondition {
    private static final VarHandle INT = ValueLayout.JAVA_INT.varHandle();

    private final RobustMutex mutex;
    private final MemorySegment memory;
    private final long base;

    /**
     * @param mutex the lock the condition belongs to
     * @param base  the slot's offset in the lock's memory
     */
    public RobustCondition(RobustMutex mutex, long base) {
        this.mutex = mutex;
        this.memory = mutex.memory();
        this.base = base;
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
        add(WAITING_OFFSET, 1);
        return awaitLoop(deadline, interruptible);
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

    /** Wakes one waiter, if any; the lock must be held. */
    public void signal() {
        mutex.checkHeld("signal a condition of");
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
        int waiting = (int) INT.getVolatile(memory, base + WAITING_OFFSET);
        if (waiting > 0) {
            INT.setVolatile(memory, base + WAITING_OFFSET, 0);
            add(WAKEUPS_OFFSET, waiting);
            INT.getAndAdd(memory, base + SEQ_OFFSET, 1);
            Futex.wake(memory, base + SEQ_OFFSET, Integer.MAX_VALUE);
        }
    }

    /** @return waiters not yet signalled (read without the lock: a hint) */
    public int waiting() {
        return (int) INT.getVolatile(memory, base + WAITING_OFFSET);
    }

    private void add(long offset, int delta) {
        INT.getAndAdd(memory, base + offset, delta);
    }
}
