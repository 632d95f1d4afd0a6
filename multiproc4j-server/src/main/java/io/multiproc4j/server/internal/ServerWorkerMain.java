package io.multiproc4j.server.internal;

import com.sun.net.httpserver.HttpHandler;
import io.multiproc4j.internal.supervise.SupervisedChild;
import io.multiproc4j.internal.transport.FrameChannel;
import io.multiproc4j.internal.transport.FrameChannel.Frame;
import io.multiproc4j.internal.transport.FrameChannel.PayloadWriter;
import io.multiproc4j.internal.transport.FrameType;
import io.multiproc4j.server.ServerApp;
import io.multiproc4j.server.WorkerContext;
import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.lang.reflect.InvocationTargetException;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.channels.Channel;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The main class of a server worker JVM.
 *
 * <pre>
 *  core's SupervisedChild.connect: $MULTIPROC4J_SOCKET, HELLO(key, pid) ─► SETUP ─► load and construct the app
 *    ─► fetch the listener (REUSE_PORT, SHARED_SOCKET: SCM_RIGHTS from the supervisor, dup2 to fd 0,
 *       System.inheritedChannel()) ─► READY ─► serve until told to stop ─► finish requests ─► exit 0
 * </pre>
 *
 * <h2>Threads</h2>
 * The main thread runs the accept loop (the app's own, or ours for an HttpHandler); each connection,
 * and in ACCEPTOR mode each request, runs on a virtual thread (an ACCEPTOR worker with a request
 * limit of n runs its requests on n platform threads instead, taking them in order); the control thread (core's lifeline,
 * {@link SupervisedChild#startLifeline}) reads the channel and answers heartbeats at once, so a busy
 * handler never delays a PONG. Only a JVM that stops (stopped, deadlocked in a GC, swapping to
 * death) misses heartbeats and is killed.
 *
 * <h2>Stopping</h2>
 * SHUTDOWN sets {@link #isStopping()} and closes this worker's copy of the listener (waking a
 * blocked accept); the socket itself stays open in the supervisor and the other workers. With the
 * drain flag (REUSE_PORT scale-down, whose socket closes for good) our HTTP loop first accepts what
 * is queued. Idle keep-alive connections are closed; requests in flight finish and answer with
 * {@code Connection: close}; then the JVM exits 0.
 *
 * <h2>Crash handling</h2>
 * At EOF on the control channel the supervisor is gone: the lifeline halts the worker at once (no orphans).
 * A failure to construct the app is reported as INIT_FAILED with the cause, then exit 1.
 */
public final class ServerWorkerMain implements WorkerContext {
    /** How long an idle keep-alive connection is kept. */
    static final int KEEP_ALIVE_MILLIS = 5_000;
    /** How long a stopping worker waits for its requests before it exits anyway. */
    static final long FINISH_MILLIS = 30_000;
    /** How long a draining accept loop goes on at most. */
    static final long DRAIN_MILLIS = 1_000;
    /**
     * How long the accept loop of a worker with a request limit waits for the first request of the
     * connection it just accepted to take (or queue for) a request slot, before its next accept. It
     * only shapes the balance: a silent connection costs this worker's next accept this much at
     * most, and the other workers keep accepting meanwhile.
     */
    static final long FIRST_REQUEST_MILLIS = 1_000;
    /** The descriptor the listener is moved to ({@link System#inheritedChannel()} adopts descriptor 0). */
    static final int LISTENER_FD = 0;

    private final FrameChannel channel;
    private final Protocol.Setup setup;
    private final AtomicBoolean stopping = new AtomicBoolean();
    private volatile boolean drain;
    private final AtomicLong served = new AtomicLong();
    private final AtomicBoolean retiringSent = new AtomicBoolean();
    private final Set<Connection> connections = ConcurrentHashMap.newKeySet();
    private final Object busyLock = new Object();
    private int inFlight;
    private long busySince;
    private long busyNanos;
    private volatile ServerSocketChannel listener;
    private boolean drainMayCome; // REUSE_PORT: a scale-down may ask this worker to drain its own socket
    private Semaphore gate; // at most setup.threads() requests in a handler at once; null: no limit
    private ExecutorService forwardedPool; // ACCEPTOR with a limit: setup.threads() threads take the requests in turn
    private volatile Object app;

    private ServerWorkerMain(FrameChannel channel, Protocol.Setup setup) {
        this.channel = channel;
        this.setup = setup;
    }

    /**
     * @param args unused: everything comes through the environment and the control channel
     * @throws Exception when the worker cannot connect; the supervisor sees it exit
     */
    public static void main(String[] args) throws Exception {
        FrameChannel channel = SupervisedChild.connect("server worker"); // core's handshake: HELLO with the key
        Frame frame = channel.receive();
        if (frame.type() != FrameType.SETUP) {
            throw new IOException("expected SETUP, got " + frame.type());
        }
        Protocol.Setup setup = Protocol.Setup.decode(frame.reader());
        Thread.currentThread().setName(setup.name());
        new ServerWorkerMain(channel, setup).run();
    }

    private void run() throws Exception {
        gate = setup.threads() > 0 ? new Semaphore(setup.threads(), true) : null;
        if (gate != null && "ACCEPTOR".equals(setup.sharing())) {
            // The supervisor queues requests here (up to all its clients'): a fixed set of threads
            // taking them in order (the same limit and the same order as the fair gate) runs a busy
            // queue with no thread started and no hand-off per request; a thread per request
            // queued on the gate would be started, parked and woken for each one. Platform threads,
            // because they write the answers to the control channel: the JDK switches a socket
            // that a virtual thread writes to non-blocking for good, and the lifeline's blocking
            // read of it then costs a read, a poll and a read again per frame instead of one read.
            forwardedPool = Executors.newFixedThreadPool(setup.threads(),
                    Thread.ofPlatform().daemon().name(setup.name() + "-request-", 0).factory());
        }
        try {
            app = construct();
            if (!"ACCEPTOR".equals(setup.sharing())) {
                listener = adoptListener();
            }
            drainMayCome = "REUSE_PORT".equals(setup.sharing());
        } catch (InitFailure e) {
            var w = new PayloadWriter();
            w.writeUTF(e.getMessage());
            channel.send(FrameType.INIT_FAILED, w.toByteArray());
            System.exit(1);
        }
        SupervisedChild.startLifeline(channel, this::onControlFrame);
        channel.send(FrameType.READY, new byte[0]);
        int exit = 0;
        try {
            if (app instanceof ServerApp serverApp) {
                serverApp.serve(listener, this);
            } else if (listener != null) {
                httpAcceptLoop((HttpHandler) app);
            }
            awaitStopping(); // ACCEPTOR, or an app that returned early: serve until told to stop
        } catch (Throwable t) {
            if (!stopping.get()) {
                System.err.println(setup.name() + ": the app failed: " + t);
                t.printStackTrace();
                exit = 1;
            }
        }
        closeListener();
        closeIdleConnections();
        awaitRequestsDone();
        System.out.flush();
        System.err.flush();
        System.exit(exit);
    }

    /** A construction failure, with the message the supervisor shows. */
    private static final class InitFailure extends Exception {
        private static final long serialVersionUID = 1L;

        InitFailure(String message) {
            super(message);
        }
    }

    private Object construct() throws InitFailure {
        List<URL> urls = new ArrayList<>();
        for (String entry : setup.classPath()) {
            try {
                urls.add(Path.of(entry).toUri().toURL());
            } catch (IOException | RuntimeException e) {
                throw new InitFailure("bad class path entry " + entry + ": " + e.getMessage());
            }
        }
        ClassLoader loader = urls.isEmpty() ? ServerWorkerMain.class.getClassLoader()
                : new URLClassLoader("app", urls.toArray(URL[]::new), ServerWorkerMain.class.getClassLoader());
        Thread.currentThread().setContextClassLoader(loader);
        Class<?> type;
        try {
            type = Class.forName(setup.className(), true, loader);
        } catch (ClassNotFoundException | LinkageError e) {
            throw new InitFailure("class " + setup.className() + " not found on the workers' class path"
                    + (setup.classPath().isEmpty() ? " (the supervisor's class path)" : " " + setup.classPath())
                    + ": " + e);
        }
        Class<?> wanted = setup.http() ? HttpHandler.class : ServerApp.class;
        if (!wanted.isAssignableFrom(type)) {
            throw new InitFailure("class " + type.getName() + " does not implement " + wanted.getName()
                    + (setup.http() ? "; an accept loop of its own goes with app(), not http()"
                            : "; an HttpHandler goes with http(), not app()"));
        }
        try {
            return type.getConstructor().newInstance();
        } catch (NoSuchMethodException e) {
            throw new InitFailure("class " + type.getName() + " has no public no-argument constructor");
        } catch (InvocationTargetException e) {
            throw new InitFailure("the constructor of " + type.getName() + " threw " + stackTrace(e.getCause()));
        } catch (ReflectiveOperationException | RuntimeException e) {
            throw new InitFailure("cannot construct " + type.getName() + ": " + e);
        }
    }

    private static String stackTrace(Throwable t) {
        var sw = new StringWriter();
        t.printStackTrace(new PrintWriter(sw));
        String s = sw.toString();
        return s.length() > 4000 ? s.substring(0, 4000) + "..." : s;
    }

    /**
     * Receives the listening socket from the supervisor and adopts it as a channel: {@code dup2} to
     * descriptor 0, then {@link System#inheritedChannel()}, which is how the JDK wraps a listener it
     * did not create. Descriptor 0 was the stdin pipe from the supervisor, which nothing reads.
     */
    private ServerSocketChannel adoptListener() throws InitFailure {
        try {
            int fd = FdServer.fetch(Path.of(setup.fdSocket()), setup.name() + " " + setup.fdToken());
            NativeSockets.dup2(fd, LISTENER_FD);
            NativeSockets.close(fd);
            Channel inherited = System.inheritedChannel();
            if (!(inherited instanceof ServerSocketChannel ssc)) {
                throw new InitFailure("the listener passed by the supervisor did not come through as a "
                        + "ServerSocketChannel but as " + inherited);
            }
            return ssc;
        } catch (IOException e) {
            throw new InitFailure("cannot get the listening socket from the supervisor: " + e.getMessage());
        }
    }

    /**
     * Closes this worker's copy of the listener. The JDK's inherited channel "detaches" the standard
     * streams when it closes (it points descriptors 0, 1 and 2 at /dev/null), which would silence
     * the worker's log lines: keep copies of 1 and 2 and put them back.
     */
    private synchronized void closeListener() {
        ServerSocketChannel l = listener;
        if (l == null || !l.isOpen()) {
            return;
        }
        try {
            int out = NativeSockets.dup(1);
            int err = NativeSockets.dup(2);
            try {
                l.close();
            } finally {
                NativeSockets.dup2(out, 1);
                NativeSockets.dup2(err, 2);
                NativeSockets.close(out);
                NativeSockets.close(err);
            }
        } catch (IOException e) {
            // closing our copy failed: the JVM's exit closes it
        }
    }

    /** A frame from the supervisor, on core's lifeline thread (which halts this JVM at EOF). */
    private void onControlFrame(Frame frame) throws IOException {
        switch (frame.type()) {
            case BATCH -> onBatch(frame.reader());
            case SHUTDOWN -> {
                drain = drainMayCome && frame.payload().length > 0 && frame.payload()[0] == 1;
                stop();
            }
            default -> throw new IOException("unexpected frame " + frame.type());
        }
    }

    private void onBatch(DataInputStream in) throws IOException {
        byte kind = in.readByte();
        if (kind == Protocol.PING) {
            long seq = in.readLong();
            var w = new PayloadWriter();
            w.writeByte(Protocol.PING);
            w.writeLong(seq);
            w.writeLong(served.get());
            synchronized (busyLock) {
                w.writeInt(inFlight);
                w.writeLong(busyNanos + (inFlight > 0 ? System.nanoTime() - busySince : 0));
            }
            channel.send(FrameType.RESULTS, w.toByteArray());
        } else if (kind == Protocol.REQUEST) {
            long id = in.readLong();
            Map.Entry<Http.Request, String> request = Http.decode(in);
            requestStarted(); // on this thread, so a SHUTDOWN read after it finds it counted
            if (forwardedPool != null) {
                forwardedPool.execute(() -> serveForwarded(id, request.getKey()));
            } else {
                Thread.ofVirtual().start(() -> serveForwarded(id, request.getKey()));
            }
        }
    }

    private void serveForwarded(long id, Http.Request request) {
        try {
            var out = new ByteArrayOutputStream(512);
            boolean keep = forwardedPool != null // the pool is the limit
                    ? Http.handle((HttpHandler) app, request, request.keepAlive(), null, null, out)
                    : handleGated((HttpHandler) app, request, request.keepAlive(), null, null, out, null);
            var w = new PayloadWriter();
            w.writeByte(Protocol.REQUEST);
            w.writeLong(id);
            w.writeBoolean(keep);
            w.bytes(out.toByteArray());
            channel.send(FrameType.RESULTS, w.toByteArray());
        } catch (IOException e) {
            // the channel is gone: the supervisor answers 503 for what we held
        } finally {
            requestEnded();
        }
    }

    private void stop() {
        if (stopping.compareAndSet(false, true)) {
            synchronized (stopping) {
                stopping.notifyAll();
            }
            synchronized (busyLock) {
                busyLock.notifyAll(); // an accept loop waiting for a first request looks at the flag again
            }
            if (!(app instanceof HttpHandler) || !drain) {
                closeListener(); // wakes the accept loop; our HTTP loop also polls the flag
            }
            closeIdleConnections();
        }
    }

    private void awaitStopping() throws InterruptedException {
        synchronized (stopping) {
            while (!stopping.get()) {
                stopping.wait();
            }
        }
    }

    /**
     * Our accept loop. The listening socket's file status flags (O_NONBLOCK among them) belong to
     * the open socket, which every worker shares: a worker that switched it to non-blocking mode,
     * as the JDK does for an accept with a timeout, would make the others' blocking accepts fail or
     * their timed ones block for good. So the socket stays in blocking mode; waiting with a timeout
     * is a {@code poll} on descriptor 0, which changes nothing shared, and a blocked accept is woken
     * by {@link #closeListener()} when the worker stops.
     */
    private void httpAcceptLoop(HttpHandler handler) throws IOException {
        ServerSocketChannel l = listener;
        long drainDeadline = 0;
        Connection last = null;
        while (true) {
            if (stopping.get()) {
                if (!drain) {
                    return;
                }
                // Draining (REUSE_PORT scale-down: this socket is ours alone now): accept what is
                // queued, until the queue stays empty for a poll or the drain time is up.
                if (drainDeadline == 0) {
                    drainDeadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(DRAIN_MILLIS);
                } else if (System.nanoTime() > drainDeadline) {
                    return;
                }
                if (!NativeSockets.pollReadable(LISTENER_FD, 100)) {
                    return;
                }
            } else if (drainMayCome && !NativeSockets.pollReadable(LISTENER_FD, 100)) {
                continue; // look at the stopping flag again: a drain does not close the listener to wake us
            }
            if (gate != null && !stopping.get()) {
                // A worker with every request slot busy leaves new connections to the others (gunicorn's
                // sync workers accept only when free): the shared queue then feeds whoever is free.
                // First the connection accepted last must have claimed its slot: else a worker that
                // finds a burst queued accepts all of it before the first request is read (its slot
                // still looks free), and the others, blocked in accept a moment longer, get none.
                awaitFirstRequest(last);
                gate.acquireUninterruptibly(); // fair: our turn comes after the requests already waiting
                gate.release();
            }
            SocketChannel c;
            try {
                c = l.accept();
            } catch (IOException e) {
                if (stopping.get()) {
                    return;
                }
                throw e;
            }
            var conn = new Connection(c);
            connections.add(conn);
            last = conn;
            Thread.ofVirtual().start(() -> serveConnection(conn, handler));
        }
    }

    /**
     * Waits until {@code conn}'s first request holds or waits for a request slot, or the connection
     * ended, or {@value #FIRST_REQUEST_MILLIS} ms after it was accepted.
     */
    private void awaitFirstRequest(Connection conn) {
        if (conn == null) {
            return;
        }
        long deadline = conn.acceptedNanos + TimeUnit.MILLISECONDS.toNanos(FIRST_REQUEST_MILLIS);
        synchronized (busyLock) {
            while (!conn.firstRequestSeen && !stopping.get()) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return;
                }
                try {
                    busyLock.wait(TimeUnit.NANOSECONDS.toMillis(left) + 1);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
    }

    /** The connection's first request has claimed a slot, or it will make none: the accept loop may go on. */
    private void firstRequestSeen(Connection conn) {
        synchronized (busyLock) {
            if (!conn.firstRequestSeen) {
                conn.firstRequestSeen = true;
                busyLock.notifyAll();
            }
        }
    }

    /**
     * One accepted connection; {@code idle} while it waits for a request after the first. A new
     * connection is not idle: its client has sent, or is sending, a request that must be answered,
     * so a stop never closes it unanswered.
     */
    private static final class Connection {
        final SocketChannel channel;
        final long acceptedNanos = System.nanoTime();
        boolean idle;
        boolean closed;
        boolean firstRequestSeen; // guarded by busyLock

        Connection(SocketChannel channel) {
            this.channel = channel;
        }

        synchronized boolean busy() {
            if (closed) {
                return false;
            }
            idle = false;
            return true;
        }

        synchronized void idle() {
            idle = true;
        }

        synchronized void closeIfIdle() {
            if (idle && !closed) {
                closed = true;
                try {
                    channel.close();
                } catch (IOException e) {
                    // gone already
                }
            }
        }
    }

    private void serveConnection(Connection conn, HttpHandler handler) {
        SocketChannel c = conn.channel;
        try (c) {
            c.socket().setSoTimeout(KEEP_ALIVE_MILLIS);
            c.socket().setTcpNoDelay(true);
            var in = new LineInput(c.socket().getInputStream(), 8192);
            OutputStream out = new BufferedOutputStream(c.socket().getOutputStream(), 8192);
            var local = (InetSocketAddress) c.getLocalAddress();
            var remote = (InetSocketAddress) c.getRemoteAddress();
            while (true) {
                Http.Request request;
                try {
                    if (!in.awaitByte()) {
                        return;
                    }
                    if (!conn.busy()) {
                        return; // closed as idle by a stop just now
                    }
                    request = Http.readRequest(in);
                } catch (SocketTimeoutException e) {
                    return; // idle keep-alive connection timed out
                } catch (Http.BadRequest e) {
                    out.write(Http.simpleResponse(e.status, e.getMessage()));
                    out.flush();
                    return;
                }
                if (request == null) {
                    return;
                }
                requestStarted();
                boolean keep;
                try {
                    keep = handleGated(handler, request, request.keepAlive() && !stopping.get(), local, remote, out, conn);
                    out.flush();
                } finally {
                    requestEnded();
                }
                if (!keep || stopping.get()) {
                    return;
                }
                conn.idle();
            }
        } catch (IOException e) {
            // the client went away
        } finally {
            connections.remove(conn);
            firstRequestSeen(conn); // it ended before it made one
        }
    }

    /** Runs the handler, at most {@code threads} at once when the setup limits it (gunicorn's --threads). */
    private boolean handleGated(HttpHandler handler, Http.Request request, boolean keepAlive, InetSocketAddress local,
                                InetSocketAddress remote, OutputStream out, Connection conn) throws IOException {
        if (gate == null) {
            return Http.handle(handler, request, keepAlive, local, remote, out);
        }
        if (!tryAcquireInTurn()) {
            if (conn != null) {
                firstRequestSeen(conn); // about to queue for a slot
            }
            gate.acquireUninterruptibly();
        }
        if (conn != null) {
            firstRequestSeen(conn); // holds a slot: the accept loop's turn comes after it
        }
        try {
            return Http.handle(handler, request, keepAlive, local, remote, out);
        } finally {
            gate.release();
        }
    }

    /**
     * @return whether a slot was free with nobody queued for one: unlike {@code tryAcquire()}, which
     *     barges, this keeps the gate's order, so requests cannot overtake the accept loop's turn
     */
    private boolean tryAcquireInTurn() {
        try {
            return gate.tryAcquire(0, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    private void closeIdleConnections() {
        for (Connection conn : connections) {
            conn.closeIfIdle();
        }
    }

    private void requestStarted() {
        synchronized (busyLock) {
            if (inFlight++ == 0) {
                busySince = System.nanoTime();
            }
        }
    }

    private void requestEnded() {
        synchronized (busyLock) {
            if (--inFlight == 0) {
                busyNanos += System.nanoTime() - busySince;
            }
            busyLock.notifyAll();
        }
        if (app instanceof HttpHandler) {
            requestServed();
        }
    }

    private void awaitRequestsDone() {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(FINISH_MILLIS);
        synchronized (busyLock) {
            while (inFlight > 0 || !connections.isEmpty()) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    System.err.println(setup.name() + ": exiting with " + inFlight + " request(s) unfinished after "
                            + FINISH_MILLIS + " ms");
                    return;
                }
                closeIdleConnections();
                try {
                    busyLock.wait(Math.min(50, TimeUnit.NANOSECONDS.toMillis(left) + 1));
                } catch (InterruptedException e) {
                    return;
                }
            }
        }
    }

    @Override
    public boolean isStopping() {
        return stopping.get();
    }

    @Override
    public void requestServed() {
        long n = served.incrementAndGet();
        if (setup.maxRequests() > 0 && n >= setup.maxRequests() && retiringSent.compareAndSet(false, true)) {
            try {
                channel.send(FrameType.RETIRING, new byte[0]);
            } catch (IOException e) {
                // the supervisor is gone; the lifeline ends us
            }
        }
    }

    @Override
    public String workerName() {
        return setup.name();
    }
}
