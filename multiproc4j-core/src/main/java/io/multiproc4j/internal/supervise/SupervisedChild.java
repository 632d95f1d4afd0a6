package io.multiproc4j.internal.supervise;

import io.multiproc4j.internal.transport.FrameChannel;
import io.multiproc4j.internal.transport.FrameChannel.Frame;
import io.multiproc4j.internal.transport.WorkerLayout;
import io.multiproc4j.internal.transport.WorkerMessage;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.util.HexFormat;

/**
 * The child's side of supervision, for any main class started by a {@link Supervisor}: connect,
 * prove the key, and keep a lifeline.
 *
 * <pre>
 *  $MULTIPROC4J_SOCKET, $MULTIPROC4J_KEY ─► connect ─► HELLO(key, pid) ─► the owner's own protocol
 *  lifeline thread: reads every frame and hands it on; EOF (the owner died, SIGKILL included) ─► halt
 * </pre>
 */
public final class SupervisedChild {
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
        SocketChannel sc = SocketChannel.open(StandardProtocolFamily.UNIX);
        sc.connect(UnixDomainSocketAddress.of(socket));
        var channel = new FrameChannel(sc);
        new WorkerMessage.Hello(HexFormat.of().parseHex(key), ProcessHandle.current().pid()).write(channel);
        channel.flush();
        return channel;
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
