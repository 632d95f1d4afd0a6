package io.multiproc4j;

import java.io.Serial;
import java.util.concurrent.TimeoutException;

/**
 * {@link Futures#asCompleted(java.util.Collection, java.time.Duration)} ran out of time: an
 * iterator cannot throw the checked {@link TimeoutException}, so it comes as this exception's cause,
 * with the same message ("N (of M) futures unfinished").
 */
public final class FuturesTimeoutException extends RuntimeException {
    @Serial
    private static final long serialVersionUID = 1L;

    /** @param cause the timeout */
    public FuturesTimeoutException(TimeoutException cause) {
        super(cause.getMessage(), cause);
    }

    @Override
    public synchronized TimeoutException getCause() {
        return (TimeoutException) super.getCause();
    }
}
