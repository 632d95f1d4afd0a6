package io.multiproc4j.ipc;

import java.io.Serial;

/**
 * A {@link ProcessQueue} was shut down: puts fail at once; takes fail once the queue is drained
 * (or at once after {@code shutdown(true)}). Python 3.13's {@code queue.ShutDown}.
 */
public final class QueueShutdownException extends IllegalStateException {
    @Serial
    private static final long serialVersionUID = 1L;

    /** @param message which queue, and what the caller tried */
    public QueueShutdownException(String message) {
        super(message);
    }
}
