package io.multiproc4j;

import java.io.Serial;

/**
 * Workers cannot be started (a bad JVM option, a class path that does not hold the worker, an
 * initializer that throws): the pool is {@link PoolState#BROKEN}. The message names the reason,
 * with the failing worker's standard error.
 */
public final class BrokenPoolException extends IllegalStateException {
    @Serial
    private static final long serialVersionUID = 1L;

    /**
     * @param message why workers cannot start
     * @param cause   the underlying error, may be {@code null}
     */
    public BrokenPoolException(String message, Throwable cause) {
        super(message, cause);
    }
}
