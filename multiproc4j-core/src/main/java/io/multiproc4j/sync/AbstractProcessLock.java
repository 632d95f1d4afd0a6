package io.multiproc4j.sync;

import io.multiproc4j.internal.shm.LockLayout;
import io.multiproc4j.internal.shm.RobustMutex;
import io.multiproc4j.internal.shm.Segment;
import java.io.Serial;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Lock;

/**
 * The code {@link ProcessLock} and {@link ProcessReentrantLock} share; the engine is
 * {@code internal.shm.RobustMutex}.
 */
abstract sealed class AbstractProcessLock extends SegmentBacked implements Lock
        permits ProcessLock, ProcessReentrantLock {
    @Serial
    private static final long serialVersionUID = 1L;

    private transient volatile RobustMutex mutex;

    AbstractProcessLock(Segment segment) {
        super(segment);
    }

    abstract boolean reentrant();

    final RobustMutex mutex() {
        RobustMutex m = mutex;
        if (m == null) {
            // racy, but benign: two threads may each build an equal, stateless view of the same memory
            m = new RobustMutex(memory(), 0, reentrant(), kindName(getClass(), name()));
            mutex = m;
        }
        memory(); // fails clearly after close
        return m;
    }

    /**
     * Acquires the lock, waiting as long as it takes. When the holder process dies, the wait ends
     * with the lock taken over and {@link #recoveredFromDeadHolder()} true.
     */
    @Override
    public void lock() {
        boolean interrupted = false;
        for (;;) {
            try {
                mutex().acquire(-1, false);
                break;
            } catch (InterruptedException e) {
                interrupted = true; // cannot happen when not interruptible; kept for safety
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Acquires the lock unless interrupted.
     *
     * @throws InterruptedException when interrupted before or while waiting
     */
    @Override
    public void lockInterruptibly() throws InterruptedException {
        mutex().acquire(-1, true);
    }

    /** @return whether the lock was free (or its holder dead) and is now held */
    @Override
    public boolean tryLock() {
        try {
            return mutex().acquire(0, false);
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
    }

    /**
     * @param time how long to wait at most
     * @param unit the unit of {@code time}
     * @return whether the lock is now held
     * @throws InterruptedException when interrupted before or while waiting
     */
    @Override
    public boolean tryLock(long time, TimeUnit unit) throws InterruptedException {
        return mutex().acquire(Math.max(1, unit.toNanos(time)), true);
    }

    /**
     * Releases the lock (one hold of a reentrant lock).
     *
     * @throws IllegalMonitorStateException when the calling thread does not hold it
     */
    @Override
    public void unlock() {
        mutex().release();
    }

    /**
     * A condition in this lock's shared memory, usable from every process that has the lock. A lock
     * has room for {@value io.multiproc4j.internal.shm.LockLayout#CONDITION_SLOTS} conditions.
     *
     * @return a new condition bound to this lock
     * @throws IllegalStateException when the lock's condition slots are used up
     */
    @Override
    public ProcessCondition newCondition() {
        int slot = (int) ValueLayout.JAVA_INT.varHandle().getAndAdd(memory(), LockLayout.CONDITIONS_OFFSET, 1);
        if (slot >= LockLayout.CONDITION_SLOTS) {
            throw new IllegalStateException(kindName(getClass(), name()) + " already has "
                    + LockLayout.CONDITION_SLOTS + " conditions, the most a process lock holds; share them");
        }
        return new ProcessCondition(this, slot);
    }

    /** @return whether the calling thread holds the lock */
    public boolean isHeldByCurrentThread() {
        return mutex().isHeldByCurrentThread();
    }

    /** @return whether any thread of any process holds the lock */
    public boolean isLocked() {
        return mutex().isLocked();
    }

    /**
     * Tells the holder that it took the lock over from a holder process that died while holding it
     * (killed, crashed, exited without unlocking). The data the lock protects may then be
     * half-updated: check or repair it before relying on it. Python's locks would deadlock here;
     * POSIX robust mutexes report it as {@code EOWNERDEAD}.
     *
     * @return true while the calling thread holds the lock and this hold began by taking it over from
     *         a dead holder; false otherwise (including when the caller does not hold the lock)
     */
    public boolean recoveredFromDeadHolder() {
        return mutex().recoveredFromDeadHolder();
    }

    /** @return the holder, waiters and counters, for diagnostics (a snapshot, read without locking) */
    public ProcessLockInfo info() {
        return ProcessLockInfo.of(name(), reentrant(), mutex().snapshot());
    }
}
