package io.multiproc4j.internal.supervise;

import io.multiproc4j.internal.transport.FrameChannel;
import io.multiproc4j.internal.transport.FrameChannel.Frame;
import io.multiproc4j.internal.transport.WorkerLayout;
import io.multiproc4j.internal.transport.WorkerMessage;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.util.HexFormat;

/**
 * The child's side of supervision, for any main class started by a {@link Supervisor}: connect,
 * prove the key, and keep a lifeline.
 *
 * <pre>
 *  $MULTIPROC4J_SOCKET, $MULTIPROC4J_KEY ─► connect ─► (TCP: the listener is our user's) ─► HELLO(key, pid)
 *      ─► the owner's own protocol
 *  lifeline thread: reads every frame and hands it on; EOF (the owner died, SIGKILL included) ─► halt
 * </pre>
 *
 * <p>{@code $MULTIPROC4J_SOCKET} is {@code tcp:127.0.0.1:<port>} or a Unix-domain socket's path
 * ({@link Lifeline}). On TCP the child checks, before it sends its key or reads a frame, that the
 * listener it reached belongs to its own user ({@code /proc/net/tcp}): a port is not a private
 * directory, and if the owner's JVM died before the child connected, another user could have
 * bound the port meanwhile and would otherwise be sent the child's HELLO and get to send it work.
 */
public final class SupervisedChild {
    /** How {@code $MULTIPROC4J_SOCKET} names a loopback TCP socket: {@code tcp:127.0.0.1:<port>}. */
    static final String TCP_PREFIX = "tcp:";

    private SupervisedChild() {}

    /** Receives the owner's frames on the lifeline thread. */
    @FunctionalInterface
    public interface FrameHandler {
        /**
         * @param frame a frame from the owner
         * @throws IOException          when it breaks the protocol (the child then halts)
         * @throws InterruptedException when interrupted
         */
        void onFrame(Frame frame) throws IOException, InterruptedException;
    }

    /**
     * Connects to the supervisor named in the environment and proves the key. Exits with code 2 and
     * a message when the environment does not name one: the class was run by hand.
     *
     * @param what what this JVM is, for that message ("worker", "manager")
     * @return the connected channel
     * @throws IOException when it cannot connect
     */
    public static FrameChannel connect(String what) throws IOException {
        String socket = System.getenv(WorkerProcess.ENV_SOCKET);
        String key = System.getenv(WorkerProcess.ENV_KEY);
        if (socket == null || key == null || key.length() != 2 * WorkerLayout.KEY_BYTES) {
            System.err.println("multiproc4j " + what + ": " + WorkerProcess.ENV_SOCKET + " and " + WorkerProcess.ENV_KEY
                    + " must be set; this JVM is started by multiproc4j, not by hand");
            System.exit(2);
        }
        SocketChannel sc = socket.startsWith(TCP_PREFIX) ? connectTcp(socket, what) : connectUnix(socket);
        var channel = new FrameChannel(sc);
        new WorkerMessage.Hello(HexFormat.of().parseHex(key), ProcessHandle.current().pid()).write(channel);
        channel.flush();
        return channel;
    }

    private static SocketChannel connectUnix(String path) throws IOException {
        SocketChannel sc = SocketChannel.open(StandardProtocolFamily.UNIX);
        sc.connect(UnixDomainSocketAddress.of(path));
        return sc;
    }

    private static SocketChannel connectTcp(String address, String what) throws IOException {
        int colon = address.lastIndexOf(':');
        int port = -1;
        try {
            port = Integer.parseInt(address.substring(colon + 1));
        } catch (NumberFormatException e) {
            // refused below
        }
        if (!address.substring(TCP_PREFIX.length(), colon).equals("127.0.0.1") || port <= 0 || port > 0xffff) {
            throw new IOException("multiproc4j " + what + ": " + WorkerProcess.ENV_SOCKET + "=" + address
                    + " is not tcp:127.0.0.1:<port>; a lifeline is on loopback only");
        }
        var server = new InetSocketAddress(InetAddress.getByAddress(new byte[] {127, 0, 0, 1}), port);
        SocketChannel sc = SocketChannel.open(StandardProtocolFamily.INET);
        try {
            sc.setOption(StandardSocketOptions.TCP_NODELAY, true); // frames are written whole: no Nagle wait
            sc.connect(server);
            LoopbackOwners owners = LoopbackOwners.snapshot();
            // our own socket unlisted: no /proc, or a listing we cannot read; then the key alone, as
            // on a system without SO_PEERCRED
            int ours = owners == null ? -1 : owners.ownerOf((InetSocketAddress) sc.getLocalAddress(), server);
            if (ours >= 0) {
                int listener = owners.listenerOf(server);
                if (listener != ours) {
                    throw new IOException("multiproc4j " + what + ": the listener on 127.0.0.1:" + port
                            + (listener < 0 ? " is gone" : " belongs to uid " + listener + ", not to this JVM's user")
                            + "; its owner is not the JVM that started this one");
                }
            }
            return sc;
        } catch (IOException | RuntimeException e) {
            sc.close();
            throw e;
        }
    }

    /**
     * Starts the lifeline: a daemon thread that reads every frame from the owner and hands it to
     * {@code handler}; at EOF or a broken protocol it halts this JVM at once, without shutdown hooks,
     * so that code stuck in a task cannot keep an orphan alive.
     *
     * @param channel the connected channel
     * @param handler what to do with each frame
     * @return the thread
     */
    public static Thread startLifeline(FrameChannel channel, FrameHandler handler) {
        Thread lifeline = new Thread(() -> {
            try {
                while (true) {
                    handler.onFrame(channel.receive());
                }
            } catch (IOException | InterruptedException | RuntimeException e) {
                Runtime.getRuntime().halt(0);
            }
        }, "multiproc4j-lifeline");
        lifeline.setDaemon(true);
        lifeline.start();
        return lifeline;
    }
}
