package io.multiproc4j.manager;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Lock;

/**
 * A reentrant lock with one condition, like Python's {@code Condition}, held by a manager. The
 * waiting methods must be called while holding the lock; they release it while waiting.
 */
public interface ManagedCondition extends Lock {
    /**
     * Releases the lock, waits for a signal, takes the lock again.
     *
     * @throws InterruptedException when this thread is interrupted while waiting
     */
    void await() throws InterruptedException;

    /**
     * @param timeout how long to wait
     * @param unit    its unit
     * @return whether a signal came in time
     * @throws InterruptedException when this thread is interrupted while waiting
     */
    boolean await(long timeout, TimeUnit unit) throws InterruptedException;

    /** Wakes one waiter. */
    void signal();

    /** Wakes every waiter. */
    void signalAll();
}
