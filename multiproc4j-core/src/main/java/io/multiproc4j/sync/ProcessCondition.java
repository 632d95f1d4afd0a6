package io.multiproc4j.sync;

import io.multiproc4j.internal.shm.ConditionLayout;
import io.multiproc4j.internal.shm.LockLayout;
import io.multiproc4j.internal.shm.RobustCondition;
import java.io.Serial;
import java.io.Serializable;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;

/**
 * A {@link Condition} shared by processes: Python's {@code multiprocessing.Condition}. Made by
 * {@link ProcessLock#newCondition()} or {@link ProcessReentrantLock#newCondition()}; it lives in the
 * lock's shared memory, so a handle captured by a task works in the worker.
 *
 * {@snippet :
 * ProcessLock lock = ProcessLock.create();
 * ProcessCondition ready = lock.newCondition();
 * // waiter (any process)                      // signaller (any process)
 * lock.lock();                                 lock.lock();
 * try {                                        try {
 *     while (!flag.get()) { ready.await(); }       flag.set(true);
 * } finally { lock.unlock(); }                     ready.signalAll();
 *                                              } finally { lock.unlock(); }
 * }
 *
 * <p>Every method needs the lock held by the calling thread, else
 * {@link IllegalMonitorStateException}. {@link #signal()} wakes exactly one waiter (of any process),
 * {@link #signalAll()} every current waiter. Spurious wakeups may happen (always wait in a loop).
 * If the lock's holder died while a waiter was being woken, the waiter returns holding the lock and
 * {@code recoveredFromDeadHolder()} on the lock says so.
 */
public final class ProcessCondition implements Condition, Serializable {
    @Serial
    private static final long serialVersionUID = 1L;

    private final AbstractProcessLock lock;
    private final int slot;
    private transient volatile RobustCondition condition;

    ProcessCondition(AbstractProcessLock lock, int slot) {
        this.lock = lock;
        this.slot = slot;
    }

    private RobustCondition condition() {
        RobustCondition c = condition;
        var mutex = lock.mutex(); // fails clearly once the lock is closed
        if (c == null) {
            // racy, but benign: equal stateless views of the same memory
            c = new RobustCondition(mutex, LockLayout.CONDITION_SLOTS_OFFSET + slot * ConditionLayout.SIZE);
            condition = c;
        }
        return c;
    }

    /** @throws InterruptedException when interrupted before or while waiting */
    @Override
    public void await() throws InterruptedException {
        condition().await(-1, true);
    }

    /** Waits for a signal, ignoring interrupts (the status is kept). */
    @Override
    public void awaitUninterruptibly() {
        try {
            condition().await(-1, false);
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
    }

    /**
     * @param nanosTimeout the most to wait
     * @return an estimate of the time left: {@code <= 0} when it timed out
     * @throws InterruptedException when interrupted
     */
    @Override
    public long awaitNanos(long nanosTimeout) throws InterruptedException {
        long start = System.nanoTime();
        boolean signalled = condition().await(Math.max(0, nanosTimeout), true);
        long left = nanosTimeout - (System.nanoTime() - start);
        return signalled ? Math.max(1, left) : Math.min(0, left);
    }

    /**
     * @param time the most to wait
     * @param unit its unit
     * @return false when the time elapsed without a signal
     * @throws InterruptedException when interrupted
     */
    @Override
    public boolean await(long time, TimeUnit unit) throws InterruptedException {
        return condition().await(Math.max(0, unit.toNanos(time)), true);
    }

    /**
     * @param timeout the most to wait
     * @return false when the time elapsed without a signal
     * @throws InterruptedException when interrupted
     */
    public boolean await(Duration timeout) throws InterruptedException {
        return await(timeout.toNanos(), TimeUnit.NANOSECONDS);
    }

    /**
     * @param deadline when to stop waiting
     * @return false when the deadline passed without a signal
     * @throws InterruptedException when interrupted
     */
    @Override
    public boolean awaitUntil(Date deadline) throws InterruptedException {
        long millis = Duration.between(Instant.now(), deadline.toInstant()).toMillis();
        return await(Math.max(0, millis), TimeUnit.MILLISECONDS);
    }

    /** Wakes one waiter of any process, if there is one. */
    @Override
    public void signal() {
        condition().signal();
    }

    /** Wakes every current waiter of every process. */
    @Override
    public void signalAll() {
        condition().signalAll();
    }

    /**
     * @return waiters not yet signalled whose process is alive (a hint; exact only while the lock
     *     is held, and for up to {@code 64} waiters, beyond which waiters are counted whether alive or not)
     */
    public int waitingCount() {
        return condition().waiting();
    }

    @Override
    public String toString() {
        return "ProcessCondition[" + lock.name() + "#" + slot + "]";
    }
}
