package io.multiproc4j.manager;

import java.util.concurrent.TimeUnit;

/** A counting semaphore held by a manager ({@link java.util.concurrent.Semaphore}'s core). */
public interface ManagedSemaphore {
    /**
     * Takes a permit, waiting for one.
     *
     * @throws InterruptedException when this thread is interrupted while waiting
     */
    void acquire() throws InterruptedException;

    /** @return whether a permit was taken at once */
    boolean tryAcquire();

    /**
     * @param timeout how long to wait
     * @param unit    its unit
     * @return whether a permit was taken in time
     * @throws InterruptedException when this thread is interrupted while waiting
     */
    boolean tryAcquire(long timeout, TimeUnit unit) throws InterruptedException;

    /** Returns a permit. */
    void release();

    /** @return the permits available now */
    int availablePermits();
}
