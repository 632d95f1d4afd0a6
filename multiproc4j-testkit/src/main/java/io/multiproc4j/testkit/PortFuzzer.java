package io.multiproc4j.testkit;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.List;

/**
 * Sends fuzzed bytes to a port of ours and reports what the server did, for property-based tests
 * of every endpoint we open (a worker handshake socket, a manager's Unix or TCP endpoint, a
 * cluster or server port): bind it with the endpoint's address and assert on {@link Exchange}.
 *
 * <pre>
 *  connect ─► write each chunk (a write the server refuses by closing is fine) ─► shutdown output
 *          ─► read until the server closes, or the deadline ─► Exchange(received, closedByServer)
 * </pre>
 *
 * A server that keeps a half-closed connection open past the deadline, or never answers, shows as
 * {@code closedByServer == false}: a thread or descriptor it would leave behind. Pair with
 * {@link ProcessResources} to check that none is, and with an honest client to check the endpoint
 * still serves.
 */
public final class PortFuzzer {
    private PortFuzzer() {}

    /**
     * What the server did with one fuzzed connection.
     *
     * @param received       every byte the server sent
     * @param closedByServer whether the server closed the connection before the deadline
     * @param connected      whether the connection was accepted at all
     */
    public record Exchange(byte[] received, boolean closedByServer, boolean connected) {}

    /**
     * @param target  a Unix-domain or TCP address
     * @param chunks  what to write, in order (each in its own write, so servers see partial frames)
     * @param timeout how long the server has to close after our last byte
     * @return what happened
     * @throws IOException when the connection cannot be opened for another reason than a refusal
     */
    public static Exchange send(SocketAddress target, List<byte[]> chunks, Duration timeout) throws IOException {
        return exchange(target, chunks, true, timeout);
    }

    /**
     * As {@link #send}, but keeps our side open after the last chunk: the server must close on its own
     * (a refusal, a handshake deadline) for {@code closedByServer} to be true.
     *
     * @param target  a Unix-domain or TCP address
     * @param chunks  what to write
     * @param timeout how long the server has to close
     * @return what happened
     * @throws IOException when the connection cannot be opened
     */
    public static Exchange sendAndHold(SocketAddress target, List<byte[]> chunks, Duration timeout)
            throws IOException {
        return exchange(target, chunks, false, timeout);
    }

    private static Exchange exchange(SocketAddress target, List<byte[]> chunks, boolean halfClose, Duration timeout)
            throws IOException {
        SocketChannel channel = target instanceof UnixDomainSocketAddress ? SocketChannel.open(StandardProtocolFamily.UNIX)
                : SocketChannel.open();
        try (channel) {
            try {
                channel.connect(target);
            } catch (java.net.ConnectException e) {
                return new Exchange(new byte[0], true, false);
            }
            if (target instanceof InetSocketAddress) {
                channel.setOption(java.net.StandardSocketOptions.TCP_NODELAY, true);
            }
            var received = new ByteArrayOutputStream();
            channel.configureBlocking(false);
            try (Selector selector = Selector.open()) {
                channel.register(selector, SelectionKey.OP_READ);
                ByteBuffer in = ByteBuffer.allocate(1 << 16);
                boolean open = true;
                try {
                    for (byte[] chunk : chunks) {
                        ByteBuffer out = ByteBuffer.wrap(chunk);
                        long writeDeadline = System.nanoTime() + timeout.toNanos();
                        while (out.hasRemaining() && open) {
                            if (channel.write(out) == 0) {
                                // the server does not read (it may be refusing): drain what it sent, then retry
                                open = drain(channel, selector, in, received, 10);
                                if (System.nanoTime() - writeDeadline > 0) {
                                    return new Exchange(received.toByteArray(), false, true);
                                }
                            }
                        }
                        open = open && drain(channel, selector, in, received, 0);
                    }
                    if (open && halfClose) {
                        channel.shutdownOutput();
                    }
                } catch (IOException e) {
                    // the server closed while we wrote: a refusal; read what it said before closing
                }
                long deadline = System.nanoTime() + timeout.toNanos();
                while (open) {
                    long left = (deadline - System.nanoTime()) / 1_000_000;
                    if (left <= 0) {
                        return new Exchange(received.toByteArray(), false, true);
                    }
                    open = drain(channel, selector, in, received, left);
                }
                return new Exchange(received.toByteArray(), true, true);
            }
        }
    }

    /** @return false once the server closed; waits up to {@code millis} for data (0: only what is there) */
    private static boolean drain(SocketChannel channel, Selector selector, ByteBuffer in, ByteArrayOutputStream into,
            long millis) throws IOException {
        if (millis > 0) {
            selector.select(millis);
        } else {
            selector.selectNow();
        }
        selector.selectedKeys().clear();
        while (true) {
            in.clear();
            int n;
            try {
                n = channel.read(in);
            } catch (IOException e) {
                return false;  // reset by the server: closed
            }
            if (n < 0) {
                return false;
            }
            if (n == 0) {
                return true;
            }
            into.write(in.array(), 0, n);
        }
    }
}
