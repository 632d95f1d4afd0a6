package io.multiproc4j.internal.manager;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.Closeable;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.StreamCorruptedException;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.locks.LockSupport;

/**
 * Framed messages with a size limit the owner can raise after authentication (see
 * {@link ManagerLayout}). One thread reads.
 *
 * <h2>Why a writer thread</h2>
 * A {@code SocketChannel} is an interruptible channel: a thread interrupted while it writes closes
 * the socket for everyone. Callers here are interrupted on purpose (a client thread blocked in
 * {@code take()} that its application interrupts; a server request thread cancelled by its client),
 * and one connection carries every proxy of a JVM and the locks it holds. So {@link #send} only
 * queues the frame; a writer thread that nobody interrupts writes frames in order, batching those
 * that queue up behind one another into one flush.
 */
final class ManagerChannel implements Closeable {
    private final SocketChannel socket;
    private final DataInputStream in;
    private final DataOutputStream out;
    private volatile int limit = ManagerLayout.HANDSHAKE_LIMIT;
    private final ConcurrentLinkedQueue<byte[]> outbox = new ConcurrentLinkedQueue<>();
    private final Thread writer;
    private volatile boolean closed;

    ManagerChannel(SocketChannel socket) {
        this.socket = socket;
        this.in = new DataInputStream(new BufferedInputStream(Channels.newInputStream(socket), 1 << 14));
        this.out = new DataOutputStream(new BufferedOutputStream(Channels.newOutputStream(socket), 1 << 14));
        this.writer = Thread.ofVirtual().name("multiproc4j-manager-writer").start(this::writeLoop);
    }

    private void writeLoop() {
        try {
            while (!closed) {
                synchronized (out) {
                    byte[] frame;
                    boolean wrote = false;
                    while ((frame = outbox.poll()) != null) {
                        out.write(frame);
                        wrote = true;
                    }
                    if (wrote) {
                        out.flush();
                    }
                }
                // racy, but benign: a frame queued after the last poll comes with an unpark, so this park returns at once
                if (outbox.isEmpty() && !closed) {
                    LockSupport.park(this);
                }
            }
        } catch (IOException e) {
            // the peer is gone: closing lets the reader see it and fail whoever waits
            close();
        }
    }

    /** @param bytes the largest payload accepted from now on */
    void limit(int bytes) {
        this.limit = bytes;
    }

    int limit() {
        return limit;
    }

    /**
     * Writes one frame from the calling thread, without a hand-off. Only for a thread that nobody
     * interrupts (the manager's connection threads): an interrupt during the write would close the
     * socket, which is why callers that can be interrupted use {@link #send}.
     */
    void sendNow(byte type, byte[] payload) throws IOException {
        if (Thread.currentThread().isInterrupted()) {
            send(type, payload);
            return;
        }
        byte[] frame = frame(type, payload);
        synchronized (out) {
            if (closed) {
                throw new IOException("connection closed");
            }
            out.write(frame);
            out.flush();
        }
    }

    /** Queues one frame for the writer thread; never blocks and is not disturbed by interrupts. */
    void send(byte type, byte[] payload) throws IOException {
        if (closed) {
            throw new IOException("connection closed");
        }
        outbox.add(frame(type, payload));
        LockSupport.unpark(writer);
    }

    private static byte[] frame(byte type, byte[] payload) {
        byte[] frame = new byte[payload.length + 5];
        int n = payload.length + 1;
        frame[0] = (byte) (n >>> 24);
        frame[1] = (byte) (n >>> 16);
        frame[2] = (byte) (n >>> 8);
        frame[3] = (byte) n;
        frame[4] = type;
        System.arraycopy(payload, 0, frame, 5, payload.length);
        return frame;
    }

    /** A frame: its type and payload. */
    record Frame(byte type, byte[] payload) {
        DataInputStream reader() {
            return new DataInputStream(new java.io.ByteArrayInputStream(payload));
        }
    }

    Frame receive() throws IOException {
        int length = in.readInt();
        if (length < 1 || length - 1 > limit) {
            throw new StreamCorruptedException("frame of " + length + " bytes refused: the limit is " + limit);
        }
        byte type = in.readByte();
        byte[] payload = new byte[length - 1];
        in.readFully(payload);
        return new Frame(type, payload);
    }

    String remote() {
        try {
            return String.valueOf(socket.getRemoteAddress());
        } catch (IOException e) {
            return "?";
        }
    }

    @Override
    public void close() {
        closed = true;
        LockSupport.unpark(writer);
        try {
            socket.close();
        } catch (IOException e) {
            // closing a broken socket: nothing left to do
        }
    }
}
