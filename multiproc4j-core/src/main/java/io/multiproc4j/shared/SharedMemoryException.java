package io.multiproc4j.shared;

/**
 * A shared-memory segment could not be created or attached: the name already exists, there is no
 * segment of that name, the file is not one of ours, or the operating system refused. The message
 * names the segment and says what to do.
 */
public class SharedMemoryException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /**
     * @param message what went wrong and what to do
     */
    public SharedMemoryException(String message) {
        super(message);
    }

    /**
     * @param message what went wrong and what to do
     * @param cause   the underlying failure
     */
    public SharedMemoryException(String message, Throwable cause) {
        super(message, cause);
    }
}
