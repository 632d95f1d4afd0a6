package io.multiproc4j;

import java.io.Serializable;

/**
 * A piece of code that can be shipped to a worker JVM and may throw, such as a pool's
 * {@linkplain PoolBuilder#initializer initializer}.
 */
@FunctionalInterface
public interface SerializableRunnable extends Serializable {
    /**
     * Runs the code.
     *
     * @throws Exception whatever the code throws; it is reported to the caller
     */
    void run() throws Exception;
}
