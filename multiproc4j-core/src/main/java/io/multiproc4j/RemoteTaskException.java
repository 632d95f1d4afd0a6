package io.multiproc4j;

import java.io.Serial;

/**
 * Stands for an exception thrown in a worker that could not be carried back as itself (its class
 * is missing here, or it does not serialize). It keeps the remote class name, message and stack.
 */
public final class RemoteTaskException extends RuntimeException {
    @Serial
    private static final long serialVersionUID = 1L;

    private final String remoteClassName;
    private final String remoteMessage;

    /**
     * @param remoteClassName the class of the exception thrown in the worker
     * @param remoteMessage   its message, may be {@code null}
     * @param remoteStack     its stack trace
     */
    public RemoteTaskException(String remoteClassName, String remoteMessage, StackTraceElement[] remoteStack) {
        super(remoteClassName + (remoteMessage == null ? "" : ": " + remoteMessage));
        this.remoteClassName = remoteClassName;
        this.remoteMessage = remoteMessage;
        setStackTrace(remoteStack);
    }

    /** @return the fully qualified class name of the exception thrown in the worker */
    public String remoteClassName() {
        return remoteClassName;
    }

    /** @return the remote exception's message, may be {@code null} */
    public String remoteMessage() {
        return remoteMessage;
    }
}
