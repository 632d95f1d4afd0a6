package io.multiproc4j.cli;

/** A failure the user can fix (a missing process, a bad file), shown as one line without a stack trace. */
public final class UserError extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /**
     * @param message what went wrong and how to fix it
     */
    public UserError(String message) {
        super(message);
    }
}
