package io.multiproc4j.internal.transport;

import java.io.DataOutputStream;
import java.io.IOException;
import java.io.StreamCorruptedException;
import java.nio.ByteBuffer;

/**
 * The one frame layout of every multiproc4j socket: the pool's worker protocol, the supervision
 * handshake of any child JVM, and the manager's protocol.
 *
 * <pre>
 *  ┌──────────────┬──────────┬───────────────────────────┐
 *  │ int length n │ byte code│ n - 1 bytes of payload    │   1 ≤ n, n - 1 ≤ the reader's limit
 *  └──────────────┴──────────┴───────────────────────────┘
 * </pre>
 *
 * The length counts the code byte, so a frame is never empty. What the code means is the protocol's
 * ({@link FrameType} for workers, {@code ManagerLayout} for managers). Two channels carry frames, and
 * differ only in how they wait, never in what they put on the wire: {@link FrameChannel} on a
 * blocking socket used by transport threads alone, and the manager's channel on a non-blocking socket
 * that any user thread may write to (an interrupt cannot close it).
 */
public final class Framing {
    /** Bytes before the payload: the length and the code. */
    public static final int HEADER_BYTES = 5;
    /** The largest payload any channel accepts: 1 GiB less the code byte. */
    public static final int MAX_PAYLOAD = (1 << 30) - 1;

    private Framing() {}

    /**
     * Checks a length field read from the wire before anything is allocated for it.
     *
     * @param length     the field (code byte included)
     * @param maxPayload the largest payload the reader accepts now
     * @return the payload's length
     * @throws StreamCorruptedException when the length is impossible or over the limit
     */
    public static int payloadLength(int length, int maxPayload) throws StreamCorruptedException {
        if (length < 1) {
            throw new StreamCorruptedException("frame length " + length + " is impossible: a frame has at least its code byte");
        }
        if (length - 1 > Math.min(maxPayload, MAX_PAYLOAD)) {
            throw new StreamCorruptedException("frame of " + (length - 1) + " payload bytes refused: the limit is "
                    + Math.min(maxPayload, MAX_PAYLOAD));
        }
        return length - 1;
    }

    /**
     * Writes a frame's header to a stream.
     *
     * @param out           the stream
     * @param code          the code, 0..255
     * @param payloadLength the payload's exact length
     * @throws IOException when the payload is over {@link #MAX_PAYLOAD}, or the stream fails
     */
    public static void writeHeader(DataOutputStream out, int code, long payloadLength) throws IOException {
        out.writeInt(checkedLength(payloadLength));
        out.writeByte(code);
    }

    /**
     * Builds a whole frame in a buffer of its own, flipped for writing.
     *
     * @param code    the code, 0..255
     * @param payload the payload
     * @return the frame
     * @throws IOException when the payload is over {@link #MAX_PAYLOAD}
     */
    public static ByteBuffer frame(int code, byte[] payload) throws IOException {
        ByteBuffer frame = ByteBuffer.allocate(HEADER_BYTES + payload.length);
        frame.putInt(checkedLength(payload.length)).put((byte) code).put(payload).flip();
        return frame;
    }

    /**
     * Reads a length field from an array without consuming it (a reader checking whether a whole
     * frame is buffered).
     *
     * @param buffer the bytes
     * @param at     where the field starts (4 bytes must be there)
     * @return the field: the code byte and the payload's length
     */
    public static int lengthAt(byte[] buffer, int at) {
        return (buffer[at] & 0xff) << 24 | (buffer[at + 1] & 0xff) << 16 | (buffer[at + 2] & 0xff) << 8 | (buffer[at + 3] & 0xff);
    }

    private static int checkedLength(long payloadLength) throws IOException {
        if (payloadLength < 0 || payloadLength > MAX_PAYLOAD) {
            throw new IOException("frame of " + payloadLength + " payload bytes is larger than the limit of " + MAX_PAYLOAD);
        }
        return (int) payloadLength + 1;
    }
}
