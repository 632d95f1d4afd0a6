package io.multiproc4j.internal.transport;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;

/**
 * Framed messages over a blocking stream socket (a Unix-domain socket between a pool and its
 * workers), in the one layout of {@link Framing}: the pool's worker protocol ({@link WorkerLayout},
 * codes from {@link FrameType}) and the supervision handshake of any child JVM (the manager's server
 * JVM included). The code byte means what the protocol says.
 *
 * <p>One thread reads; writers are serialized, each writing a whole frame at once. Frames above
 * {@link #MAX_FRAME} are refused on both sides. A pool's channels are used by its transport threads
 * only ({@link WorkerLink}): a {@link SocketChannel} closes when a thread blocked on it is
 * interrupted, so a user's thread must never write to one.
 */
public final class FrameChannel implements Closeable {
    /** The largest frame accepted, code byte included: 1 GiB. */
    public static final int MAX_FRAME = Framing.MAX_PAYLOAD + 1;

    private final SocketChannel socket;
    private final Input input;
    private final DataInputStream in;
    private final DataOutputStream out;

    /** @param socket a connected, blocking socket */
    public FrameChannel(SocketChannel socket) {
        this.socket = socket;
        this.input = new Input(Channels.newInputStream(socket), 1 << 16);
        this.in = new DataInputStream(input);
        this.out = new DataOutputStream(new BufferedOutputStream(Channels.newOutputStream(socket), 1 << 16));
    }

    /**
     * Writes one frame and flushes it.
     *
     * @param type    the frame type
     * @param payload the payload, already encoded
     * @throws IOException when the peer is gone
     */
    public void send(FrameType type, byte[] payload) throws IOException {
        send(type, payload, 0, payload.length);
    }

    /**
     * Writes one frame from part of an array and flushes it.
     *
     * @param type    the frame type
     * @param payload the array
     * @param offset  where the payload starts
     * @param length  its length
     * @throws IOException when the peer is gone
     */
    public synchronized void send(FrameType type, byte[] payload, int offset, int length) throws IOException {
        write(type, payload, offset, length);
        out.flush();
    }

    /**
     * Writes one frame into the buffer without flushing: for a run of frames sent together, one
     * system call instead of one each. {@link #flush()} must follow.
     *
     * @param type    the frame type
     * @param payload the payload
     * @throws IOException when the peer is gone
     */
    public synchronized void sendBuffered(FrameType type, byte[] payload) throws IOException {
        write(type, payload, 0, payload.length);
    }

    /**
     * Sends what {@link #sendBuffered} left in the buffer.
     *
     * @throws IOException when the peer is gone
     */
    public synchronized void flush() throws IOException {
        out.flush();
    }

    private void write(FrameType type, byte[] payload, int offset, int length) throws IOException {
        writeCode(type.ordinal(), payload, offset, length);
    }

    private void writeCode(int code, byte[] payload, int offset, int length) throws IOException {
        Framing.writeHeader(out, code, length);
        out.write(payload, offset, length);
    }

    /**
     * Writes one frame of another protocol (its own codes) and flushes it.
     *
     * @param code    the frame's code, 0..255
     * @param payload the payload
     * @throws IOException when the peer is gone
     */
    public synchronized void sendCode(int code, byte[] payload) throws IOException {
        writeCode(code, payload, 0, payload.length);
        out.flush();
    }

    /** Writes a frame's body straight into the channel's buffer, without building a payload array first. */
    @FunctionalInterface
    public interface Body {
        /**
         * @param out the channel's stream; exactly the announced number of bytes must be written
         * @throws IOException when the peer is gone
         */
        void writeTo(DataOutputStream out) throws IOException;
    }

    /**
     * Writes one frame whose body writes itself, without flushing ({@link #flush()} must follow).
     *
     * @param code   the frame's code
     * @param length the body's exact length
     * @param body   writes the body
     * @throws IOException when the peer is gone, or the frame is too large
     */
    public synchronized void sendBuffered(int code, long length, Body body) throws IOException {
        Framing.writeHeader(out, code, length);
        body.writeTo(out);
    }

    /**
     * Reads the next frame. Only one thread may read.
     *
     * @return the frame
     * @throws EOFException when the peer closed the connection
     * @throws IOException  on a broken or malformed stream
     */
    public Frame receive() throws IOException {
        return receive(MAX_FRAME);
    }

    /**
     * Receives one frame no longer than a limit: what a peer that has not authenticated yet may send
     * is read with a small one, so a forged length never allocates more.
     *
     * @param maxLength the largest frame accepted (code byte included)
     * @return the frame
     * @throws EOFException when the peer closed the connection
     * @throws IOException  on a broken or malformed stream, or a frame over the limit
     */
    public Frame receive(int maxLength) throws IOException {
        int payloadLength = Framing.payloadLength(in.readInt(), maxLength - 1);
        int code = in.readUnsignedByte();
        byte[] payload = new byte[payloadLength];
        in.readFully(payload);
        return new Frame(code, payload);
    }

    /**
     * Whether the next frame is already read in whole, so {@link #receive()} returns it without a
     * system call. Only the reading thread may ask. A reader that answers frames batches its
     * answers while this is true: one write for a run of frames instead of one each.
     *
     * @return whether a whole frame is buffered
     */
    public boolean hasBufferedFrame() {
        return input.hasWholeFrame();
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }

    /** The read buffer, which can tell whether it holds a whole frame. */
    private static final class Input extends BufferedInputStream {
        Input(java.io.InputStream in, int size) {
            super(in, size);
        }

        synchronized boolean hasWholeFrame() {
            byte[] b = buf; // null once closed
            int buffered = count - pos;
            if (b == null || buffered < 4) {
                return false;
            }
            int length = Framing.lengthAt(b, pos);
            return length >= 0 && buffered - 4 >= length;
        }
    }

    /**
     * A received frame.
     *
     * @param code    its code byte
     * @param payload its payload
     */
    public record Frame(int code, byte[] payload) {
        /** @return its type in the pool's worker protocol */
        public FrameType type() {
            return FrameType.of(code);
        }

        /** @return a reader over the payload */
        public DataInputStream reader() {
            return new DataInputStream(new java.io.ByteArrayInputStream(payload));
        }
    }

    /** Builds a payload field by field. */
    public static final class PayloadWriter extends DataOutputStream {
        /** Starts an empty payload. */
        public PayloadWriter() {
            super(new ByteArrayOutputStream(128));
        }

        /**
         * Writes a length-prefixed byte array.
         *
         * @param bytes the bytes, may be {@code null} (written as length -1)
         * @return this writer
         * @throws IOException never, in practice
         */
        public PayloadWriter bytes(byte[] bytes) throws IOException {
            if (bytes == null) {
                writeInt(-1);
            } else {
                writeInt(bytes.length);
                write(bytes);
            }
            return this;
        }

        /** @return the payload so far */
        public byte[] toByteArray() {
            return ((ByteArrayOutputStream) out).toByteArray();
        }
    }

    /**
     * Reads a length-prefixed byte array written by {@link PayloadWriter#bytes}.
     *
     * @param in the payload reader
     * @return the bytes, or {@code null}
     * @throws IOException on a malformed payload
     */
    public static byte[] readBytes(DataInputStream in) throws IOException {
        int n = in.readInt();
        if (n < 0) {
            return null;
        }
        if (n <= in.available()) {
            // perf (map5): one copy into an array of the exact size; readNBytes(n) reads in 16 KiB
            // pieces and copies them once more (a 1M map's results and inputs: 8 MB copied twice)
            byte[] bytes = new byte[n];
            in.readFully(bytes);
            return bytes;
        }
        return in.readNBytes(n);
    }
}
