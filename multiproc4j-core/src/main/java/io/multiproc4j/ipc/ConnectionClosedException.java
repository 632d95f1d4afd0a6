package io.multiproc4j.ipc;

import java.io.EOFException;
import java.io.Serial;
import java.io.UncheckedIOException;

/**
 * A {@link Connection} cannot go on: the other end was closed (or its process died) and every
 * message it sent has been received, or this end was closed. The cause is an {@link EOFException}
 * with the same message, as Python raises {@code EOFError} from {@code recv()} and
 * {@code BrokenPipeError} from {@code send()}.
 */
public final class ConnectionClosedException extends UncheckedIOException {
    @Serial
    private static final long serialVersionUID = 1L;

    /** @param message what was closed and what the caller was trying to do */
    public ConnectionClosedException(String message) {
        super(message, new EOFException(message));
    }
}
