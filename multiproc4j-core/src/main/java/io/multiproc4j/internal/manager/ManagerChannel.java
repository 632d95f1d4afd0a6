package io.multiproc4j.internal.manager;

import io.multiproc4j.internal.transport.Framing;
import java.io.Closeable;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.util.ArrayDeque;
import java.util.concurrent.locks.LockSupport;

/**
 * Framed messages in the frame layout of every multiproc4j socket ({@link Framing}; the manager's
 * codes in {@link ManagerLayout}), with a receive limit the owner raises after authentication. One
 * thread receives; any thread sends. It differs from the pool's
 * {@link io.multiproc4j.internal.transport.FrameChannel} in how it waits,
 * not in what it puts on the wire.
 *
 * <h2>Why a non-blocking socket</h2>
 * A {@code SocketChannel} in blocking mode is an interruptible channel: a thread interrupted while
 * it writes closes the socket for everyone. Senders here are interrupted on purpose (a client
 * thread in {@code take()} that its application interrupts; a server request thread cancelled by
 * its client), and one connection carries every proxy of a JVM and the locks it holds. A channel in
 * non-blocking mode is not closed by interrupts, so the socket stays non-blocking: a sender writes
 * its frame itself, without a hand-off to another thread (that hand-off cost tens of µs a call), and
 * only when the socket buffer is full does the rest go to a backlog that a writer thread, started
 * then, drains as the socket becomes writable. The receiver waits for data in a {@link Selector},
 * which an interrupt would only wake.
 *
 * <h2>Concurrency</h2>
 * Sends are serialized by {@code writeLock}, so frames never interleave, and a frame queued behind
 * the backlog keeps its order. {@link #close()} wakes the receiver and the writer.
 */
final class ManagerChannel implements Closeable {
    private final SocketChannel socket;
    private final Selector readable;
    private final ByteBuffer in = ByteBuffer.allocate(1 << 16).flip();
    private volatile int limit = ManagerLayout.HANDSHAKE_LIMIT;
    private final Object writeLock = new Object();
    private final ArrayDeque<ByteBuffer> backlog = new ArrayDeque<>();
    private Thread writer;
    private volatile boolean closed;

    ManagerChannel(SocketChannel socket) throws IOException {
        this.socket = socket;
        socket.configureBlocking(false);
        this.readable = Selector.open();
        socket.register(readable, SelectionKey.OP_READ);
    }

    /** @param bytes the largest payload accepted from now on */
    void limit(int bytes) {
        this.limit = bytes;
    }

    /**
     * Sends one frame: written now when the socket takes it, else queued in order behind the backlog.
     * Never blocks on the peer and is not disturbed by interrupts.
     */
    void send(byte type, byte[] payload) throws IOException {
        ByteBuffer frame = Framing.frame(type & 0xff, payload);
        synchronized (writeLock) {
            if (closed) {
                throw new ClosedChannelException();
            }
            if (backlog.isEmpty()) {
                while (frame.hasRemaining() && socket.write(frame) > 0) {
                    // the socket took some; go on until it is all written or the buffer is full
                }
                if (!frame.hasRemaining()) {
                    return;
                }
            }
            backlog.add(frame);
            if (writer == null) {
                writer = Thread.ofPlatform().daemon().name("multiproc4j-manager-writer").start(this::drainBacklog);
            }
        }
        LockSupport.unpark(writer);
    }

    /** The writer thread: writes the backlog as the socket drains; parks while there is none. */
    private void drainBacklog() {
        try (Selector writable = Selector.open()) {
            socket.register(writable, SelectionKey.OP_WRITE);
            while (!closed) {
                boolean full = false;
                synchronized (writeLock) {
                    while (!backlog.isEmpty()) {
                        ByteBuffer head = backlog.peek();
                        socket.write(head);
                        if (head.hasRemaining()) {
                            full = true;
                            break;
                        }
                        backlog.poll();
                    }
                }
                if (full) {
                    writable.select(1000);
                    writable.selectedKeys().clear();
                } else {
                    LockSupport.park(this);  // racy, but benign: send() unparks after queueing
                }
            }
        } catch (IOException e) {
            close();  // the peer is gone: the receiver sees the closed socket and fails whoever waits
        }
    }

    /** A frame: its type and payload. */
    record Frame(byte type, byte[] payload) {
        DataInputStream reader() {
            return new DataInputStream(new java.io.ByteArrayInputStream(payload));
        }
    }

    /**
     * Waits for and returns the next frame. One thread at a time.
     *
     * @throws EOFException when the peer closed the connection
     * @throws IOException  when the frame breaks the limit or this channel was closed
     */
    Frame receive() throws IOException {
        while (true) {
            if (in.remaining() >= Framing.HEADER_BYTES) {
                int length = in.getInt(in.position());
                int payloadLength = Framing.payloadLength(length, limit);
                if (in.remaining() >= 4 + length) {
                    in.getInt();
                    byte type = in.get();
                    byte[] payload = new byte[payloadLength];
                    in.get(payload);
                    return new Frame(type, payload);
                }
                if (4 + length > in.capacity()) {
                    return receiveLarge(length);
                }
            }
            in.compact();
            try {
                fill(in);
            } finally {
                in.flip();
            }
        }
    }

    /** A frame larger than the buffer: read its payload straight into its own array. */
    private Frame receiveLarge(int length) throws IOException {
        in.getInt();
        byte type = in.get();
        byte[] payload = new byte[length - 1];
        int have = in.remaining();
        in.get(payload, 0, have);
        ByteBuffer rest = ByteBuffer.wrap(payload, have, payload.length - have);
        while (rest.hasRemaining()) {
            fill(rest);
        }
        return new Frame(type, payload);
    }

    /** Reads at least one byte into the buffer, waiting in the selector when none is there. */
    private void fill(ByteBuffer target) throws IOException {
        while (true) {
            if (closed) {
                throw new ClosedChannelException();
            }
            int n = socket.read(target);
            if (n < 0) {
                throw new EOFException("the peer closed the connection");
            }
            if (n > 0) {
                return;
            }
            try {
                readable.select();
                readable.selectedKeys().clear();
            } catch (java.nio.channels.ClosedSelectorException e) {
                throw new ClosedChannelException();  // closed while we waited
            }
        }
    }

    /** @return who is at the other end, for log lines */
    String remote() {
        try {
            var address = socket.getRemoteAddress();
            if (address instanceof java.net.UnixDomainSocketAddress unix && unix.getPath().toString().isEmpty()) {
                return "a local process (Unix-domain socket)";  // clients' sockets are unnamed
            }
            return String.valueOf(address);
        } catch (IOException e) {
            return "?";
        }
    }

    @Override
    public void close() {
        closed = true;
        readable.wakeup();
        Thread w;
        synchronized (writeLock) {
            w = writer;
        }
        if (w != null) {
            LockSupport.unpark(w);
        }
        try {
            socket.close();
        } catch (IOException e) {
            // closing a broken socket: nothing left to do
        }
        try {
            readable.close();
        } catch (IOException e) {
            // same
        }
    }
}
