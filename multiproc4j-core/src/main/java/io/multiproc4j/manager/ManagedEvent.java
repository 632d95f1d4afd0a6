package io.multiproc4j.manager;

import java.util.concurrent.TimeUnit;

/** A flag that processes wait on, like Python's {@code Event}, held by a manager. */
public interface ManagedEvent {
    /** Sets the flag and wakes every waiter. */
    void set();

    /** Clears the flag. */
    void clear();

    /** @return whether the flag is set */
    boolean isSet();

    /**
     * Waits until the flag is set.
     *
     * @throws InterruptedException when this thread is interrupted while waiting
     */
    void await() throws InterruptedException;

    /**
     * @param timeout how long to wait
     * @param unit    its unit
     * @return whether the flag was set in time
     * @throws InterruptedException when this thread is interrupted while waiting
     */
    boolean await(long timeout, TimeUnit unit) throws InterruptedException;
}
