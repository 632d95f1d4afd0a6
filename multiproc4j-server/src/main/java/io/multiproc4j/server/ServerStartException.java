package io.multiproc4j.server;

/**
 * A supervisor could not start (or reload): the app class is missing, does not implement the
 * interface or throws in its constructor; the port is in use; the bind address is not local; a
 * worker JVM died before it was ready. The message says which, with the worker's evidence. Nothing
 * is left behind: every worker started for it is stopped and every socket closed.
 */
public final class ServerStartException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** @param message what went wrong and how to fix it */
    public ServerStartException(String message) {
        super(message);
    }

    /**
     * @param message what went wrong and how to fix it
     * @param cause   the underlying failure
     */
    public ServerStartException(String message, Throwable cause) {
        super(message, cause);
    }
}
