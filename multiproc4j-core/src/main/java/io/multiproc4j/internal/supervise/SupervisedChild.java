package io.multiproc4j.internal.supervise;

import io.multiproc4j.internal.transport.FrameChannel;
import io.multiproc4j.internal.transport.FrameChannel.Frame;
import io.multiproc4j.internal.transport.FrameType;
import io.multiproc4j.internal.transport.WorkerLayout;
import io.multiproc4j.internal.transport.WorkerMessage;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.HexFormat;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The child's side of supervision, for any main class started by a {@link Supervisor}: connect,
 * prove the key, and keep a lifeline.
 *
 * <pre>
 *  $MULTIPROC4J_SOCKET, $MULTIPROC4J_KEY, $MULTIPROC4J_ANSWER ─► connect ─► HELLO(key, pid)
 *      ─► HELLO(answer, the supervisor's pid) from the supervisor, checked ─► the owner's own protocol
 *  lifeline thread: reads every frame and hands it on; EOF (the owner died, SIGKILL included) ─► halt
 * </pre>
 *
 * <p>{@code $MULTIPROC4J_SOCKET} is {@code tcp:127.0.0.1:<port>} or a Unix-domain socket's path
 * ({@link Lifeline}). The answer tells the child that it reached the JVM that started it: a port
 * is not a private directory, and if that JVM died before the child connected, another process
 * (another user's) could have taken the port meanwhile; it gets the child's key, which is of no
 * use without the JVM it belonged to, and the child sends it nothing more and exits. Required for
 * TCP, checked for a Unix-domain socket when the environment names one.
 */
public final class SupervisedChild {
    /** An answer is a key and a pid: anything longer is refused unread. */
    private static final int MAX_ANSWER_BYTES = 4 << 10;
    /** As long as the supervisor gives a child to prove its key. */
    static final Duration ANSWER_TIMEOUT = Duration.ofSeconds(20);
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
        String answer = System.getenv(WorkerProcess.ENV_ANSWER);
        boolean tcp = socket.startsWith(TCP_PREFIX);
        if (answer == null ? tcp : answer.length() != 2 * WorkerLayout.KEY_BYTES) {
            System.err.println("multiproc4j " + what + ": " + WorkerProcess.ENV_ANSWER + " must be set to the supervisor's "
                    + "answer, " + 2 * WorkerLayout.KEY_BYTES + " hex digits (required for a TCP lifeline), but was "
                    + (answer == null ? "unset" : answer.length() + " characters long")
                    + "; this JVM is started by multiproc4j, not by hand");
            System.exit(2);
        }
        SocketChannel sc = tcp ? connectTcp(socket, what) : connectUnix(socket);
        var channel = new FrameChannel(sc);
        new WorkerMessage.Hello(HexFormat.of().parseHex(key), ProcessHandle.current().pid()).write(channel);
        channel.flush();
        if (answer != null) {
            checkAnswer(channel, HexFormat.of().parseHex(answer), socket, what);
        }
        return channel;
    }

    private static void checkAnswer(FrameChannel channel, byte[] expected, String socket, String what) throws IOException {
        // A process that took the port after our supervisor died may accept and never answer. The
        // lifeline thread, which halts this JVM when its owner goes, is not started yet: without a
        // deadline of its own this JVM would wait for ever, an orphan.
        var answered = new CountDownLatch(1);
        var timedOut = new AtomicBoolean();
        Thread.ofPlatform().daemon().name("multiproc4j-answer-deadline").start(() -> {
            try {
                if (!answered.await(ANSWER_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
                    timedOut.set(true);
                    channel.close();
                }
            } catch (InterruptedException | IOException e) {
                // nothing to stop then: the wait below ends with the channel either way
            }
        });
        byte[] got;
        try {
            Frame frame = channel.receive(MAX_ANSWER_BYTES);
            got = frame.code() == FrameType.HELLO.ordinal() && WorkerMessage.decode(frame) instanceof WorkerMessage.Hello hello
                    ? hello.key() : null;
        } catch (IOException e) {
            channel.close();
            if (timedOut.get()) {
                throw new IOException("multiproc4j " + what + ": the process listening on " + socket + " did not answer within "
                        + ANSWER_TIMEOUT.toSeconds() + " s of this JVM's key; it is sent nothing more", e);
            }
            throw e; // EOF: the supervisor refused us or died; a broken stream is no answer either
        } catch (RuntimeException e) {
            channel.close(); // a frame that does not decode is no answer
            throw new IOException("multiproc4j " + what + ": the process listening on " + socket + " sent a first frame that "
                    + "is not a supervisor's answer (" + e.getMessage() + "); it is sent nothing more", e);
        } finally {
            answered.countDown();
        }
        if (got == null || got.length != expected.length || difference(got, expected) != 0) {
            channel.close();
            throw new IOException("multiproc4j " + what + ": the process listening on " + socket + " did not answer as the "
                    + "supervisor that started this JVM; it is sent nothing more");
        }
    }

    /** Zero when equal; the time taken does not depend on where they differ. */
    private static int difference(byte[] a, byte[] b) {
        int difference = 0;
        for (int i = 0; i < a.length; i++) {
            difference |= a[i] ^ b[i];
        }
        return difference;
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
        if (colon < TCP_PREFIX.length() || !address.substring(TCP_PREFIX.length(), colon).equals("127.0.0.1")
                || port <= 0 || port > 0xffff) {
            throw new IOException("multiproc4j " + what + ": " + WorkerProcess.ENV_SOCKET + "=" + address
                    + " is not tcp:127.0.0.1:<port>; a lifeline is on loopback only");
        }
        var server = new InetSocketAddress(InetAddress.getByAddress(new byte[] {127, 0, 0, 1}), port);
        SocketChannel sc = SocketChannel.open(StandardProtocolFamily.INET);
        try {
            sc.setOption(StandardSocketOptions.TCP_NODELAY, true); // frames are written whole: no Nagle wait
            sc.connect(server);
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
