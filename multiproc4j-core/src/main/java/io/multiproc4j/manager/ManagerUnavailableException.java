package io.multiproc4j.manager;

/**
 * A manager could not be reached, or stopped answering: it exited, was killed, its machine is
 * unreachable, or no reply came within the call timeout. Thrown by every proxy call in that case,
 * at once rather than after a hang; calls that were waiting (a {@code take}, a {@code lock}) are
 * woken with it when the connection drops.
 */
public class ManagerUnavailableException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /**
     * @param message what happened and where
     * @param cause   the underlying failure, or {@code null}
     */
    public ManagerUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
