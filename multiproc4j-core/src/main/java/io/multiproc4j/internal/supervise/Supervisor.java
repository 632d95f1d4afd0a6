package io.multiproc4j.internal.supervise;

import io.multiproc4j.internal.supervise.WorkerProcess.LaunchSpec;
import io.multiproc4j.internal.transport.FrameChannel;
import io.multiproc4j.internal.transport.FrameChannel.Frame;
import io.multiproc4j.internal.transport.FrameType;
import io.multiproc4j.internal.transport.PeerCredentials;
import io.multiproc4j.internal.transport.WorkerMessage;
import java.io.Closeable;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * Starts child JVMs and watches them from spawn to exit: the pool's workers, the manager's server
 * JVM, and any other main class that speaks the handshake ({@link SupervisedChild}).
 *
 * <pre>
 *  spawn(spec) ─► JVM with $MULTIPROC4J_SOCKET, $MULTIPROC4J_KEY ─► connects to this supervisor's socket
 *      ─► (Unix: peer's user is ours) ─► HELLO(key, pid) ─► key matches a STARTING child
 *      ─► HELLO(its answer, our pid) back ─► listener.connected(child, channel)
 *             (on the connection's own thread: the owner reads the child's messages there until EOF)
 *  start timeout: still STARTING ─► kill(START_TIMEOUT)
 *  process exit ─► wait for the connection thread to read everything ─► DEAD ─► listener.exited(child, exit)
 * </pre>
 *
 * <h2>The socket</h2>
 * {@link Lifeline#configured()}: by default a Unix-domain socket in a private directory (mode 700;
 * a peer of another user is refused before a byte is read, from {@code SO_PEERCRED}), else a
 * loopback TCP socket (127.0.0.1, a port the kernel picks). Either way a connection that does not
 * send a waiting child's one-time key in its first frame (at most 4 KiB, within 20 s) is closed
 * unanswered, and a child that proved its key gets the supervisor's one-time answer back, which
 * it checks before it acts on anything ({@link SupervisedChild}). {@link Lifeline} explains the
 * choice and what TCP gives up.
 *
 * <h2>Concurrency</h2>
 * One acceptor thread per supervisor; one platform thread per connected child (a blocked read
 * wakes faster than a virtual thread's); exits are awaited and reported on virtual threads
 * ({@code Process.waitFor}, never the common pool). The listener is called without any lock of
 * ours held.
 *
 * <h2>Crash handling</h2>
 * A child's exit is one event, reported once, after its connection thread has read every frame the
 * child sent (bounded wait), so results written just before dying are not lost. Its cause is the
 * first reason recorded ({@link WorkerProcess#expectExit}), else START_FAILED or CRASHED.
 *
 * <h2>Shutdown</h2>
 * {@link #close()} stops accepting and removes the socket directory (Unix-domain); it does not kill children
 * (their owner decides). A JVM shutdown hook kills the children of every open supervisor; children
 * halt by themselves when this JVM dies (EOF on their connection, the lifeline).
 */
public final class Supervisor implements Closeable {

    /** What an owner does with its children's events. */
    public interface Listener {
        /**
         * A child proved its key. Called on the child's connection thread, which belongs to the
         * owner until the connection ends: it typically reads the child's messages in a loop here.
         *
         * @param child   the child
         * @param channel its connected channel
         */
        void connected(WorkerProcess child, FrameChannel channel);

        /**
         * A child's process exited (it is DEAD now). Called once per child, on a virtual thread.
         *
         * @param child the child
         * @param exit  how it ended
         */
        void exited(WorkerProcess child, Exit exit);
    }

    /**
     * How a child ended.
     *
     * @param cause      why
     * @param exitCode   its exit code (128 + signal for a signal)
     * @param stderrTail its last lines of standard error
     * @param connected  whether it had completed the handshake
     */
    public record Exit(ExitCause cause, int exitCode, List<String> stderrTail, boolean connected) {
        /** Copies the tail. */
        public Exit {
            stderrTail = List.copyOf(stderrTail);
        }
    }

    private static final Set<Supervisor> OPEN = ConcurrentHashMap.newKeySet();
    private static final ExecutorService VIRTUAL =
            Executors.newThreadPerTaskExecutor(Thread.ofVirtual().name("multiproc4j-exit-", 1).factory());
    private static final ScheduledExecutorService TIMER;
    private static final System.Logger LOG = System.getLogger("io.multiproc4j.supervise");
    private static final long PID = ProcessHandle.current().pid();
    /** A HELLO is a key and a pid: anything longer before authentication is refused unread. */
    private static final int MAX_HELLO_BYTES = 4 << 10;
    /** How long an accepted connection may take to send its HELLO (a child sends it at once). */
    private static final Duration HANDSHAKE_TIMEOUT = Duration.ofSeconds(20);
    /** How long an exit waits for the child's connection thread to read what the child sent. */
    private static final Duration READER_GRACE = Duration.ofSeconds(2);

    static {
        var timer = new ScheduledThreadPoolExecutor(1, r -> Thread.ofPlatform().daemon()
                .name("multiproc4j-start-timer").unstarted(r));
        timer.setRemoveOnCancelPolicy(true);
        TIMER = timer;
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            for (Supervisor supervisor : OPEN) {
                supervisor.killAll();
            }
        }, "multiproc4j-shutdown"));
    }

    private final Listener listener;
    private final Lifeline lifeline;
    /** The private directory of a Unix-domain socket; null for TCP. */
    private final Path directory;
    private final SocketAddress address;
    /** {@link #address} as a child reads it from {@link WorkerProcess#ENV_SOCKET}. */
    private final String childAddress;
    private final ServerSocketChannel server;
    private final Map<String, WorkerProcess> unconnected = new ConcurrentHashMap<>();
    private final Set<WorkerProcess> alive = ConcurrentHashMap.newKeySet();
    private volatile boolean closed;

    private Supervisor(Listener listener, Lifeline lifeline) throws IOException {
        this.listener = listener;
        this.lifeline = lifeline;
        SocketFiles.removeLeftovers(); // a crashed JVM's directories, whichever family it used
        if (lifeline == Lifeline.TCP) {
            this.directory = null;
            this.server = ServerSocketChannel.open(StandardProtocolFamily.INET);
            InetSocketAddress bound;
            try {
                server.bind(new InetSocketAddress(InetAddress.getByAddress(new byte[] {127, 0, 0, 1}), 0));
                bound = (InetSocketAddress) server.getLocalAddress();
            } catch (IOException | RuntimeException e) {
                server.close();
                throw e;
            }
            this.address = bound;
            this.childAddress = SupervisedChild.TCP_PREFIX + "127.0.0.1:" + bound.getPort();
        } else {
            this.directory = SocketFiles.createPrivateDirectory();
            Path socketPath = directory.resolve("s.sock");
            this.server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
            server.bind(UnixDomainSocketAddress.of(socketPath));
            this.address = UnixDomainSocketAddress.of(socketPath);
            this.childAddress = socketPath.toString();
        }
    }

    /**
     * Opens a supervisor with the socket family {@link Lifeline#configured()} names, and its acceptor.
     *
     * @param listener what to do with the children's events
     * @return the supervisor
     * @throws UncheckedIOException     when the socket cannot be set up
     * @throws IllegalArgumentException when {@value Lifeline#PROPERTY} names no family
     */
    public static Supervisor open(Listener listener) {
        return open(listener, Lifeline.configured());
    }

    /**
     * Opens a supervisor on a socket of the given family: a loopback TCP socket, or a Unix-domain
     * socket in a private directory (mode 700); and its acceptor.
     *
     * @param listener what to do with the children's events
     * @param lifeline the socket family
     * @return the supervisor
     * @throws UncheckedIOException when the socket cannot be set up
     */
    public static Supervisor open(Listener listener, Lifeline lifeline) {
        Supervisor supervisor;
        try {
            supervisor = new Supervisor(listener, lifeline);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot set up a socket for child JVMs: " + e.getMessage(), e);
        }
        OPEN.add(supervisor);
        Thread.ofPlatform().daemon().name("multiproc4j-acceptor").start(supervisor::acceptLoop);
        return supervisor;
    }

    /** @return the socket children connect to: an {@link InetSocketAddress} or a {@link UnixDomainSocketAddress} */
    public SocketAddress address() {
        return address;
    }

    /** @return the socket family */
    public Lifeline lifeline() {
        return lifeline;
    }

    /**
     * Starts a child JVM and watches it: a start timeout, and its exit.
     *
     * @param spec         what to start
     * @param startTimeout how long it may stay STARTING (handshake and whatever its owner waits for)
     * @return the child, STARTING
     * @throws UncheckedIOException  when the JVM cannot be started
     * @throws IllegalStateException after {@link #close()}
     */
    public WorkerProcess spawn(LaunchSpec spec, Duration startTimeout) {
        if (closed) {
            throw new IllegalStateException("this supervisor is closed");
        }
        WorkerProcess child = WorkerProcess.spawn(spec, childAddress);
        unconnected.put(child.key(), child);
        alive.add(child);
        // Awaited on a virtual thread of ours, not through Process.onExit(): that future's stages run on
        // the common ForkJoinPool, whose only thread on a 2-core machine may be the one blocked in an
        // owner's call that waits for this very exit (a server's reload run by
        // CompletableFuture.runAsync): the exit was then never reported.
        VIRTUAL.execute(() -> awaitExit(child));
        child.startTimer(TIMER.schedule(() -> {
            if (child.abandonStart()) { // a CAS: a READY that won the race keeps its child
                child.kill(ExitCause.START_TIMEOUT);
            }
        }, startTimeout.toMillis(), TimeUnit.MILLISECONDS));
        return child;
    }

    /** @return the children whose process has not exited yet */
    public int aliveCount() {
        return alive.size();
    }

    private void acceptLoop() {
        while (true) {
            SocketChannel socket;
            try {
                socket = server.accept();
            } catch (IOException e) {
                return; // closed
            }
            Thread.ofPlatform().daemon().name("multiproc4j-connection").start(() -> handshake(socket));
        }
    }

    private void handshake(SocketChannel socket) {
        var channel = new FrameChannel(socket);
        WorkerProcess child = null;
        // A peer that proved nothing gets a small frame and a deadline: a forged length allocates
        // nothing, and a silent connection does not hold this thread and its descriptor for ever.
        var deadline = TIMER.schedule(() -> closeQuietly(channel), HANDSHAKE_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        try {
            if (lifeline == Lifeline.TCP) {
                socket.setOption(StandardSocketOptions.TCP_NODELAY, true); // frames are written whole: no Nagle wait
            }
            String stranger = lifeline == Lifeline.UNIX ? unixStranger(socket) : null;
            if (stranger != null) {
                LOG.log(System.Logger.Level.WARNING, "refused a connection to the worker socket from another user ("
                        + stranger + ")");
            } else {
                Frame frame = channel.receive(MAX_HELLO_BYTES);
                if (frame.code() == FrameType.HELLO.ordinal()
                        && WorkerMessage.decode(frame) instanceof WorkerMessage.Hello hello && hello.key() != null) {
                    child = unconnected.remove(HexFormat.of().formatHex(hello.key()));
                }
                if (child != null) {
                    new WorkerMessage.Hello(child.answer(), PID).write(channel); // we are its supervisor
                    channel.flush();
                }
                if (child != null && LOG.isLoggable(System.Logger.Level.DEBUG)) {
                    PeerCredentials full = PeerCredentials.of(socket).orElse(null);
                    LOG.log(System.Logger.Level.DEBUG, child.name() + " connected (" + (full == null ? "no peer credentials"
                            : full.describe()) + ")");
                }
            }
        } catch (IOException | RuntimeException e) {
            child = null;
        } finally {
            deadline.cancel(false);
        }
        if (child == null) {
            closeQuietly(channel); // not one of ours: a wrong or reused key, another user, a silent peer
            return;
        }
        Thread.currentThread().setName("multiproc4j-reader-" + child.name());
        child.connected(channel, Thread.currentThread());
        try {
            listener.connected(child, channel);
        } catch (RuntimeException e) {
            child.kill(ExitCause.KILLED);
        } finally {
            closeQuietly(channel);
        }
    }

    /** @return who the Unix-domain peer is when it is another user, else null (ours, or not known) */
    private static String unixStranger(SocketChannel socket) {
        // perf: the names only, which decide; the pid (a descriptor search, a downcall linked on
        // first use) only for a line that is written
        PeerCredentials peer = PeerCredentials.names(socket).orElse(null);
        // (a user this JVM cannot tell, without /proc, refuses nobody: the directory is private anyway)
        if (peer != null && PeerCredentials.thisProcessUser() != null && !peer.sameUserAsThisProcess()) {
            return PeerCredentials.of(socket).orElse(peer).describe();
        }
        return null;
    }

    private void awaitExit(WorkerProcess child) {
        boolean interrupted = false;
        while (true) {
            try {
                child.process().waitFor(); // an Object.wait: the virtual thread unmounts meanwhile
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        onExit(child);
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    private void onExit(WorkerProcess child) {
        Thread reader = child.connectionThread();
        if (reader != null && reader != Thread.currentThread()) {
            try {
                // Read what it sent before dying. Bounded, so a reader stuck in a user's callback
                // does not hold back the exit (the owner drops what it reads late, see ProcessEngine).
                reader.join(READER_GRACE);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        unconnected.remove(child.key());
        int exitCode = child.process().exitValue();
        List<String> tail = child.stderrTail(300);
        child.drainStdout();
        ExitCause cause = child.intent();
        boolean connected = reader != null;
        if (cause == null) {
            cause = child.state() == WorkerProcess.State.STARTING ? ExitCause.START_FAILED : ExitCause.CRASHED;
        }
        child.died(cause);
        alive.remove(child);
        listener.exited(child, new Exit(cause, exitCode, tail, connected));
    }

    private void killAll() {
        for (WorkerProcess child : alive) {
            child.kill(ExitCause.KILLED);
        }
        if (directory != null) {
            SocketFiles.delete(directory);
        }
    }

    /** Stops accepting and removes the socket directory, if any. Children are left to their owner. */
    @Override
    public void close() {
        closed = true;
        OPEN.remove(this);
        closeQuietly(server);
        if (directory != null) {
            SocketFiles.delete(directory);
        }
    }

    private static void closeQuietly(Closeable closeable) {
        try {
            closeable.close();
        } catch (IOException e) {
            // nothing to do
        }
    }
}
