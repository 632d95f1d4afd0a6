package io.multiproc4j.internal.codec;

import io.multiproc4j.RemoteTaskException;
import io.multiproc4j.internal.transport.FrameChannel;
import io.multiproc4j.internal.transport.FrameChannel.PayloadWriter;
import io.multiproc4j.spi.Codec;
import java.io.DataInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;

/**
 * Carries an exception from a worker to the pool. The exception travels twice: as itself (when it
 * serializes), and as its class name, message and stack (always). The pool gets the original type
 * when it can decode it, and a {@link RemoteTaskException} otherwise.
 *
 * <pre>
 *  bytes class name (UTF-8) │ bytes message (UTF-8, -1 = null) │ bytes stack │ bytes throwable (-1 = none)
 * </pre>
 */
public final class RemoteFailure {
    private RemoteFailure() {}

    /**
     * @param failure the exception
     * @param codec   the codec of this worker
     * @return its payload
     */
    public static byte[] encode(Throwable failure, Codec codec) {
        try {
            var w = new PayloadWriter();
            w.bytes(failure.getClass().getName().getBytes(StandardCharsets.UTF_8));
            String message = failure.getMessage();
            w.bytes(message == null ? null : message.getBytes(StandardCharsets.UTF_8));
            w.bytes(encodeOrNull(failure.getStackTrace(), codec));
            w.bytes(encodeOrNull(failure, codec));
            return w.toByteArray();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /**
     * @param payload what {@link #encode} made
     * @param codec   the codec of this JVM
     * @return the original exception, or a {@link RemoteTaskException} standing for it
     * @throws IOException on a malformed payload
     */
    public static Throwable decode(byte[] payload, Codec codec) throws IOException {
        DataInputStream in = new DataInputStream(new java.io.ByteArrayInputStream(payload));
        String className = new String(FrameChannel.readBytes(in), StandardCharsets.UTF_8);
        byte[] messageBytes = FrameChannel.readBytes(in);
        String message = messageBytes == null ? null : new String(messageBytes, StandardCharsets.UTF_8);
        byte[] stackBytes = FrameChannel.readBytes(in);
        byte[] throwableBytes = FrameChannel.readBytes(in);
        if (throwableBytes != null) {
            try {
                if (codec.decode(throwableBytes) instanceof Throwable original) {
                    return original;
                }
            } catch (IOException | ClassNotFoundException | RuntimeException e) {
                // fall back to the description below
            }
        }
        StackTraceElement[] stack = new StackTraceElement[0];
        if (stackBytes != null) {
            try {
                stack = (StackTraceElement[]) codec.decode(stackBytes);
            } catch (IOException | ClassNotFoundException | RuntimeException e) {
                // keep the empty stack: the class name and message still say what happened
            }
        }
        return new RemoteTaskException(className, message, stack);
    }

    private static byte[] encodeOrNull(Object value, Codec codec) {
        try {
            return codec.encode(value);
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }
}
