package io.multiproc4j.ipc;

import java.io.Serial;

/**
 * {@link Connection#receiveBytesInto(byte[], int)} got a message longer than the room left in the
 * caller's buffer. The message has been received (it is no longer in the pipe): it is carried here
 * whole, as Python's {@code BufferTooShort} carries it.
 */
public final class BufferTooShortException extends RuntimeException {
    @Serial
    private static final long serialVersionUID = 1L;
    private final transient byte[] message;

    /**
     * @param message   the whole message received
     * @param room      the bytes that were available in the buffer
     */
    public BufferTooShortException(byte[] message, int room) {
        super("the message is " + message.length + " bytes but the buffer has room for " + room
                + " from the given offset; the message is in message(); pass a larger buffer or use receiveBytes()");
        this.message = message;
    }

    /** @return the whole message (not copied) */
    public byte[] message() {
        return message;
    }
}
