package io.multiproc4j.internal.transport;

import java.io.EOFException;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;

/** Real Unix-domain sockets for transport (and manager framing) tests, and a frame reader that reads as little as asked. */
public final class Sockets {
    private Sockets() {}

    /**
     * @param path where to bind for the moment it takes to connect (removed after)
     * @return two connected, blocking ends
     */
    public static SocketChannel[] pair(Path path) throws IOException {
        try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            server.bind(UnixDomainSocketAddress.of(path));
            SocketChannel client = SocketChannel.open(StandardProtocolFamily.UNIX);
            client.connect(UnixDomainSocketAddress.of(path));
            return new SocketChannel[] {client, server.accept()};
        } finally {
            Files.deleteIfExists(path);
        }
    }

    /** Reads exactly {@code n} bytes. */
    static ByteBuffer readFully(SocketChannel socket, int n) throws IOException {
        ByteBuffer buffer = ByteBuffer.allocate(n);
        while (buffer.hasRemaining()) {
            if (socket.read(buffer) < 0) {
                throw new EOFException("the peer closed the connection after " + buffer.position() + " of " + n + " bytes");
            }
        }
        return buffer.flip();
    }

    /** @return the next frame's length (code byte included) and code, without reading its payload */
    static int[] readHeader(SocketChannel socket) throws IOException {
        ByteBuffer header = readFully(socket, 5);
        return new int[] {header.getInt(), header.get() & 0xff};
    }

    /** Reads a whole frame. */
    static FrameChannel.Frame readFrame(SocketChannel socket) throws IOException {
        int[] header = readHeader(socket);
        return readPayload(socket, header);
    }

    /** Reads the payload of a frame whose header was read. */
    static FrameChannel.Frame readPayload(SocketChannel socket, int[] header) throws IOException {
        return new FrameChannel.Frame(header[1], readFully(socket, header[0] - 1).array());
    }
}
