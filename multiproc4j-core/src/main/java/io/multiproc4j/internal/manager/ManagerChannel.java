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

/**
 * Framed messages with a size limit the owner can raise after authentication (see
 * {@link ManagerLayout}). One thread reads; {@link #send} is synchronized so that replies written
 * by many request threads never interleave.
 */
final class ManagerChannel implements Closeable {
    private final SocketChannel socket;
    private final DataInputStream in;
    private final DataOutputStream out;
    private volatile int limit = ManagerLayout.HANDSHAKE_LIMIT;

    ManagerChannel(SocketChannel socket) {
        this.socket = socket;
        this.in = new DataInputStream(new BufferedInputStream(Channels.newInputStream(socket), 1 << 14));
        this.out = new DataOutputStream(new BufferedOutputStream(Channels.newOutputStream(socket), 1 << 14));
    }

    /** @param bytes the largest payload accepted from now on */
    void limit(int bytes) {
        this.limit = bytes;
    }

    int limit() {
        return limit;
    }

    synchronized void send(byte type, byte[] payload) throws IOException {
        if (payload.length > limit) {
            throw new IOException("message of " + payload.length + " bytes is larger than the manager's limit of "
                    + limit + " bytes; send smaller values or raise maxFrameBytes on the manager");
        }
        out.writeInt(payload.length + 1);
        out.writeByte(type);
        out.write(payload);
        out.flush();
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
        try {
            socket.close();
        } catch (IOException e) {
            // closing a broken socket: nothing left to do
        }
    }
}
