package io.multiproc4j.manager;

import java.util.concurrent.BrokenBarrierException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A cyclic barrier held by a manager ({@link java.util.concurrent.CyclicBarrier}'s core). A party
 * whose connection drops while waiting breaks the barrier for the others, as an interrupted
 * thread does.
 */
public interface ManagedBarrier {
    /**
     * @return the arrival index: parties - 1 for the first, 0 for the last
     * @throws InterruptedException   when this thread is interrupted while waiting
     * @throws BrokenBarrierException when another party left or timed out
     */
    int await() throws InterruptedException, BrokenBarrierException;

    /**
     * @param timeout how long to wait
     * @param unit    its unit
     * @return the arrival index
     * @throws InterruptedException   when this thread is interrupted while waiting
     * @throws BrokenBarrierException when another party left or timed out
     * @throws TimeoutException       when the others did not come in time
     */
    int await(long timeout, TimeUnit unit) throws InterruptedException, BrokenBarrierException, TimeoutException;

    /** @return how many parties must arrive */
    int parties();

    /** @return how many wait now */
    int waiting();

    /** @return whether the barrier is broken */
    boolean isBroken();

    /** Breaks the barrier for those waiting and starts a new generation. */
    void reset();
}
