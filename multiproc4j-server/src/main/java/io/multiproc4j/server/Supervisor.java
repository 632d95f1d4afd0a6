package io.multiproc4j.server;

import com.sun.net.httpserver.HttpHandler;
import io.multiproc4j.WorkerOutput;
import io.multiproc4j.internal.supervise.AotCache;
import io.multiproc4j.internal.supervise.Crew;
import io.multiproc4j.internal.supervise.ExitCause;
import io.multiproc4j.internal.supervise.WorkerProcess;
import io.multiproc4j.internal.supervise.WorkerProcess.LaunchSpec;
import io.multiproc4j.internal.transport.FrameChannel;
import io.multiproc4j.internal.transport.FrameChannel.Frame;
import io.multiproc4j.internal.transport.FrameChannel.PayloadWriter;
import io.multiproc4j.internal.transport.FrameType;
import io.multiproc4j.server.internal.FdServer;
import io.multiproc4j.server.internal.NativeSockets;
import io.multiproc4j.server.internal.Protocol;
import io.multiproc4j.server.internal.ServerAotTrainer;
import io.multiproc4j.server.internal.ServerWorkerMain;
import java.io.DataInputStream;
import java.io.IOException;
import java.net.BindException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.net.UnknownHostException;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * Runs N copies of a server application as worker JVMs behind one port: what gunicorn and uWSGI give
 * Python web apps, with the failure handling of multiproc4j's pools.
 *
 * {@snippet :
 * try (Supervisor server = Supervisor.builder()
 *         .http(HelloHandler.class)              // a com.sun.net.httpserver.HttpHandler
 *         .port(8080)
 *         .sharing(PortSharing.SHARED_SOCKET)
 *         .model(WorkerModel.hybrid(2, 8))
 *         .maxRequestsPerWorker(10_000)
 *         .start()) {
 *     server.reload();                           // rolling: no request refused or dropped
 * }
 * }
 *
 * <h2>Data flow</h2>
 * <pre>
 *  start(): bind the port (native listener(s), or a JDK channel for ACCEPTOR) ─► spawn workers
 *           through core's supervision ({@code internal.supervise.Supervisor} and {@link Crew}: key
 *           in the environment, HELLO, start timeout, lifeline, one {@link ExitCause} per exit) ─►
 *           connected(channel): SETUP ─► the worker fetches its listener from the {@link FdServer}
 *           (SCM_RIGHTS, proved by a token sent in SETUP) ─► READY
 *  monitor thread, every tick: PING every worker; kill one silent for workerTimeout; every
 *           {@value WorkerModel#SAMPLE_MILLIS} ms apply the autoscaling rule; start or stop workers
 *           until the number of slots in use matches the target
 *  ACCEPTOR ({@code AcceptorDispatch}, which owns this path and its per-worker state): one
 *           event-loop thread accepts and reads every client ─► the least busy READY worker gets
 *           each request as a BATCH frame (one write per worker per round of the loop) ─► RESULTS
 *           carries the response back, with the worker's verdict on keep-alive, and the worker's
 *           connection thread writes it to the client's non-blocking socket
 * </pre>
 * This class keeps the listener set-up of the three {@link PortSharing} models and the workers'
 * lifecycle; {@code AcceptorDispatch} shares its lock, its {@code changed} condition and its worker
 * list, and calls back only to read the phase and to send a stopping worker's SHUTDOWN.
 *
 * <h2>Slots and successors</h2>
 * Each worker holds a slot (its place: numbered from 0, named in {@link WorkerInfo}). With
 * REUSE_PORT a slot owns one listening socket, kept open by the supervisor. A worker that must be
 * replaced (reload, recycle after maxRequestsPerWorker) gets a <em>successor</em> in the same slot;
 * only when the successor is READY is the predecessor told to stop accepting, so the port always has
 * workers accepting and no socket is closed: queued connections stay queued for the successor.
 * A crashed worker's slot gets a new worker with the restart counted and its cause kept.
 *
 * <h2>Concurrency</h2>
 * One lock guards the worker list, the target, the phase and the {@link Crew}; supervision's
 * connection threads (one per worker, reading its frames), its exit callbacks (virtual threads),
 * the monitor and the public methods take it briefly.
 * Frames are sent outside it where they might block (a client request: {@code AcceptorDispatch}
 * says how), inside it where they are control frames of a few bytes. {@code changed} wakes whoever
 * waits for a worker to become ready or to go.
 *
 * <h2>Crash handling</h2>
 * A worker's death is its process exit as supervision reports it (once, after its frames were read,
 * with one {@link ExitCause}), never a read on a channel the dying worker may hold. Exit handling
 * fails the ACCEPTOR requests it held with 503 ({@code AcceptorDispatch.failRequests}), logs the
 * cause (exit code, signal, missed heartbeats, last stderr line, supervision's cause) and, unless
 * the worker was being stopped, starts a replacement; a worker that failed to construct its app is
 * not restarted at once (a back off up to 30 s) so broken code does not spin.
 *
 * <h2>Shutdown</h2>
 * Phases: RUNNING → CLOSING → CLOSED. {@link #close()} stops accepting (ACCEPTOR: the requests in
 * flight are answered first, then the clients closed, by {@code AcceptorDispatch}), tells every
 * worker to stop (each finishes its requests and exits), waits for them, then closes the sockets
 * and removes its directory. {@link #shutdownNow()} kills the workers instead of waiting.
 */
public final class Supervisor implements AutoCloseable {
    /**
     * How long a worker may take to be READY. The AOT trainer ({@code ServerAotTrainer}: at nice 10,
     * recording, on a machine that may be busy) lengthens it through this internal property.
     */
    static final long START_TIMEOUT_MILLIS = Long.getLong("multiproc4j.server.startTimeoutMillis", 60_000);
    private static final long STOP_TIMEOUT_MILLIS = 35_000;
    /** How long after its kill was due a stopped worker may take to be reported gone before it is killed again. */
    private static final long BACKSTOP_MILLIS = 10_000;
    private static final int BACKLOG = 4096;
    private static final SecureRandom RANDOM = new SecureRandom();

    static {
        // perf: server workers get an AOT cache of their own (class path from jars only), trained by a detached JVM
        AotCache.registerTrainer(ServerWorkerMain.class.getName(), ServerAotTrainer.class);
    }

    private enum Phase { RUNNING, CLOSING, CLOSED }

    private final Builder config;
    private final Consumer<String> log;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private final List<Worker> workers = new ArrayList<>();
    private final Map<Integer, Integer> slotFds = new HashMap<>();
    private volatile Phase phase = Phase.RUNNING; // written under the lock; read without it per ACCEPTOR request
    private int target;
    private int queuedStreak;
    private long idleSinceNanos;
    private long spawnBackoffMillis;
    private long nextSpawnNanos;
    private long lastSampleNanos;
    private Path directory;
    private io.multiproc4j.internal.supervise.Supervisor supervision; // core's: spawn, handshake, exits
    private Crew crew;
    private FdServer fdServer;
    private int sharedFd = -1;
    private ServerSocketChannel acceptor;
    private AcceptorDispatch dispatch; // ACCEPTOR only: accepts and hands each request to a worker
    private InetSocketAddress bindAddress;
    private int port;
    private Thread monitor;

    private Supervisor(Builder config) {
        this.config = config;
        this.log = config.log;
    }

    /** @return a builder with the defaults: port 0, loopback, SHARED_SOCKET, prefork(cores) */
    public static Builder builder() {
        return new Builder();
    }

    /** Configures and starts a {@link Supervisor}; every setter checks its argument at once. */
    public static final class Builder {
        private String className;
        private boolean http;
        private List<String> classPath = List.of();
        private int port;
        private String bindAddress = "127.0.0.1";
        private PortSharing sharing = PortSharing.SHARED_SOCKET;
        private WorkerModel model = WorkerModel.prefork(Math.max(1, Runtime.getRuntime().availableProcessors()));
        private long maxRequests;
        private int threads;
        private Duration workerTimeout = Duration.ofSeconds(30);
        private List<String> jvmOptions = List.of();
        private WorkerOutput output = WorkerOutput.PREFIXED;
        private Consumer<String> log = line -> System.err.println(Instant.now() + " multiproc4j-server: " + line);

        private Builder() {}

        /**
         * @param app a server application with its own accept loop, run in every worker
         * @return this builder
         */
        public Builder app(Class<? extends ServerApp> app) {
            return app(Objects.requireNonNull(app, "app").getName());
        }

        /**
         * @param className a {@link ServerApp}'s class, loaded by the workers (from {@link #classPath})
         * @return this builder
         */
        public Builder app(String className) {
            this.className = requireClassName(className);
            this.http = false;
            return this;
        }

        /**
         * @param handler a JDK HTTP handler, served over HTTP/1.1 by every worker
         * @return this builder
         */
        public Builder http(Class<? extends HttpHandler> handler) {
            return http(Objects.requireNonNull(handler, "handler").getName());
        }

        /**
         * @param className an {@link HttpHandler}'s class, loaded by the workers (from {@link #classPath})
         * @return this builder
         */
        public Builder http(String className) {
            this.className = requireClassName(className);
            this.http = true;
            return this;
        }

        private static String requireClassName(String className) {
            Objects.requireNonNull(className, "className");
            if (className.isBlank()) {
                throw new IllegalArgumentException("the class name is empty: give a fully qualified class name");
            }
            return className.trim();
        }

        /**
         * @param entries jars or directories the workers load the app from, after the supervisor's
         *                class path; read again by every new worker, so {@link Supervisor#reload()} runs new code
         * @return this builder
         */
        public Builder classPath(List<Path> entries) {
            List<String> cp = new ArrayList<>();
            for (Path p : entries) {
                if (!Files.exists(p)) {
                    throw new IllegalArgumentException("class path entry " + p + " does not exist");
                }
                cp.add(p.toAbsolutePath().toString());
            }
            this.classPath = List.copyOf(cp);
            return this;
        }

        /**
         * @param port the TCP port, 0 for a free one ({@link Supervisor#port()} says which)
         * @return this builder
         */
        public Builder port(int port) {
            if (port < 0 || port > 65535) {
                throw new IllegalArgumentException("port must be 0..65535 (0 picks a free one), got " + port);
            }
            this.port = port;
            return this;
        }

        /**
         * @param address an address of this machine, {@code 127.0.0.1} by default; {@code 0.0.0.0}
         *                for every interface (checked at {@link #start()})
         * @return this builder
         */
        public Builder bindAddress(String address) {
            this.bindAddress = Objects.requireNonNull(address, "address");
            return this;
        }

        /**
         * @param sharing how the workers share the port
         * @return this builder
         */
        public Builder sharing(PortSharing sharing) {
            this.sharing = Objects.requireNonNull(sharing, "sharing");
            return this;
        }

        /**
         * @param model how many workers: prefork, onDemand or hybrid
         * @return this builder
         */
        public Builder model(WorkerModel model) {
            this.model = Objects.requireNonNull(model, "model");
            return this;
        }

        /**
         * @param requests requests after which a worker is replaced (plus a jitter of up to 10%, so
         *                 workers do not all recycle at once); 0 for never
         * @return this builder
         */
        public Builder maxRequestsPerWorker(long requests) {
            if (requests < 0) {
                throw new IllegalArgumentException("maxRequestsPerWorker must be 0 (never) or more, got " + requests);
            }
            this.maxRequests = requests;
            return this;
        }

        /**
         * @param threads how many requests one worker runs at once: 0 (the default) for no limit,
         *                each request on a virtual thread; 1 for a worker like gunicorn's sync worker
         *                (a CPU-bound handler then uses one core per worker); n like gunicorn's
         *                {@code --threads n}. Connections are read on virtual threads either way, so
         *                keep-alive clients never starve one another.
         * @return this builder
         */
        public Builder threadsPerWorker(int threads) {
            if (threads < 0) {
                throw new IllegalArgumentException("threadsPerWorker must be 0 (no limit) or more, got " + threads);
            }
            this.threads = threads;
            return this;
        }

        /**
         * @param timeout how long a worker may leave its heartbeat unanswered before it is killed and
         *                replaced (30 s by default)
         * @return this builder
         */
        public Builder workerTimeout(Duration timeout) {
            Objects.requireNonNull(timeout, "timeout");
            if (timeout.toMillis() < 100) {
                throw new IllegalArgumentException("workerTimeout must be at least 100 ms, got " + timeout);
            }
            this.workerTimeout = timeout;
            return this;
        }

        /**
         * @param options options for every worker JVM (heap, GC, system properties)
         * @return this builder
         */
        public Builder jvmOptions(List<String> options) {
            for (String o : options) {
                if (o == null || o.isBlank()) {
                    throw new IllegalArgumentException("a JVM option is empty: " + options);
                }
                if (o.equals("-cp") || o.equals("-classpath") || o.equals("--class-path")) {
                    throw new IllegalArgumentException("give the app's class path with classPath(...), not " + o);
                }
            }
            this.jvmOptions = List.copyOf(options);
            return this;
        }

        /**
         * @param output what to do with the workers' standard output and error (prefixed by default)
         * @return this builder
         */
        public Builder workerOutput(WorkerOutput output) {
            this.output = Objects.requireNonNull(output, "output");
            return this;
        }

        /**
         * @param log where the supervisor's log lines go (one per worker start, exit, reload, scaling);
         *            standard error by default
         * @return this builder
         */
        public Builder log(Consumer<String> log) {
            this.log = Objects.requireNonNull(log, "log");
            return this;
        }

        /**
         * Binds the port and starts the model's workers (at least one, even for onDemand, so a broken
         * app is reported here), waiting until they are ready.
         *
         * @return the running supervisor
         * @throws ServerStartException naming what is wrong; nothing is left behind
         */
        public Supervisor start() {
            if (className == null) {
                throw new ServerStartException("no application: call app(MyApp.class) or http(MyHandler.class) before start()");
            }
            if (sharing == PortSharing.ACCEPTOR && !http) {
                throw new ServerStartException("ACCEPTOR hands HTTP requests to the workers, so it needs http(handler); "
                        + "an app() with its own accept loop needs REUSE_PORT or SHARED_SOCKET");
            }
            var supervisor = new Supervisor(this);
            try {
                supervisor.begin();
                return supervisor;
            } catch (ServerStartException e) {
                supervisor.shutdownNow();
                throw e;
            } catch (IOException | RuntimeException e) {
                supervisor.shutdownNow();
                throw new ServerStartException("cannot start the server: " + e.getMessage(), e);
            }
        }
    }

    /** One worker JVM and what the supervisor knows of it. */
    final class Worker {
        final String name;
        final int slot;
        final int restarts;
        final String lastRestart;
        final WorkerProcess process;
        final String fdToken = newToken(); // proves it to the FdServer; sent only in its SETUP
        final Instant started = Instant.now();
        final long startNanos = System.nanoTime();
        final CompletableFuture<Void> ready = new CompletableFuture<>();
        final AcceptorDispatch.Requests requests = new AcceptorDispatch.Requests(); // ACCEPTOR: dispatched to it
        Worker predecessor;
        Worker successor;
        volatile WorkerInfo.State state = WorkerInfo.State.STARTING;
        volatile FrameChannel channel;
        volatile long served;
        volatile long lastPongNanos = System.nanoTime();
        long lastBusyNanos;
        long lastBusySampleNanos;
        volatile double busyFraction;
        String stopReason;
        boolean shutdownSent; // guarded by the lock
        boolean drainOnStop;  // guarded by the lock
        volatile String killReason;
        volatile String initFailure;
        boolean gone;

        Worker(String name, int slot, int restarts, String lastRestart, WorkerProcess process) {
            this.name = name;
            this.slot = slot;
            this.restarts = restarts;
            this.lastRestart = lastRestart;
            this.process = process;
        }

        @Override
        public String toString() {
            return name + " (pid " + process.pid() + ")";
        }
    }

    private static String newToken() {
        byte[] token = new byte[32];
        RANDOM.nextBytes(token);
        return HexFormat.of().formatHex(token);
    }

    // ---------------------------------------------------------------- start

    private void begin() throws IOException {
        if (config.sharing != PortSharing.ACCEPTOR) {
            NativeSockets.ensureSupported();
        }
        InetAddress address = resolveLocal(config.bindAddress);
        InetSocketAddress requested = new InetSocketAddress(address, config.port);
        switch (config.sharing) {
            case SHARED_SOCKET -> {
                sharedFd = listen(requested, false);
                port = NativeSockets.localPort(sharedFd);
            }
            case REUSE_PORT -> {
                if (config.port != 0) {
                    ensureNotShared(requested);
                }
                int fd = listen(requested, true);
                slotFds.put(0, fd);
                port = NativeSockets.localPort(fd);
            }
            case ACCEPTOR -> {
                acceptor = ServerSocketChannel.open();
                try {
                    acceptor.bind(requested, BACKLOG);
                } catch (BindException e) {
                    throw portInUse(requested, e.getMessage());
                }
                port = ((InetSocketAddress) acceptor.getLocalAddress()).getPort();
                dispatch = new AcceptorDispatch(this, acceptor, lock, changed, workers);
            }
        }
        bindAddress = new InetSocketAddress(address, port);
        if (config.sharing != PortSharing.ACCEPTOR) {
            // The listener's descriptor goes to the workers here (the control channel, a JDK socket, cannot carry it).
            removeLeftovers();
            directory = Files.createTempDirectory(Path.of(System.getProperty("java.io.tmpdir")),
                    "multiproc4j-server-" + ProcessHandle.current().pid() + "-",
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            fdServer = new FdServer(directory.resolve("fds.sock"), this::listenerFor);
        }
        supervision = io.multiproc4j.internal.supervise.Supervisor.open(new Supervision());
        crew = new Crew(supervision, "worker",
                name -> LaunchSpec.of(name, ServerWorkerMain.class, config.jvmOptions, config.output),
                Duration.ofMillis(START_TIMEOUT_MILLIS), config.model.max());

        List<Worker> first = new ArrayList<>();
        lock.lock();
        try {
            target = Math.max(1, config.model.min());
            for (int i = 0; i < target; i++) {
                first.add(spawnLocked(i, 0, null, null));
            }
        } finally {
            lock.unlock();
        }
        for (Worker w : first) {
            awaitReady(w, "start");
        }
        monitor = Thread.ofPlatform().daemon().name("multiproc4j-server-monitor").start(this::monitorLoop);
        if (dispatch != null) {
            dispatch.start();
        }
        log.accept("listening on " + bindAddress.getAddress().getHostAddress() + ":" + port + " (" + config.sharing
                + ", " + describe(config.model) + ", " + first.size() + " worker(s) ready, app " + config.className + ")");
    }

    /**
     * Removes the directories of supervisors whose JVM died without closing (their pid is the second
     * part of the name and no longer runs). Best effort: never fails a start.
     */
    private static void removeLeftovers() {
        Path tmp = Path.of(System.getProperty("java.io.tmpdir"));
        try (var dirs = Files.newDirectoryStream(tmp, "multiproc4j-server-*")) {
            for (Path dir : dirs) {
                String[] parts = dir.getFileName().toString().split("-");
                try {
                    if (parts.length >= 4 && ProcessHandle.of(Long.parseLong(parts[2])).isEmpty()) {
                        deleteTree(dir);
                    }
                } catch (NumberFormatException e) {
                    // not one of ours
                }
            }
        } catch (IOException | RuntimeException e) {
            // nothing to clean
        }
    }

    private static void deleteTree(Path dir) {
        try (Stream<Path> paths = Files.walk(dir)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException e) {
                    // best effort
                }
            });
        } catch (IOException e) {
            // gone already
        }
    }

    private static String describe(WorkerModel m) {
        if (!m.autoscaled()) {
            return "prefork(" + m.max() + ")";
        }
        return (m.min() == 0 ? "onDemand(" : "hybrid(" + m.min() + ", ") + m.max() + ", idle " + m.idleTimeout().toMillis() + " ms)";
    }

    private static InetAddress resolveLocal(String host) {
        InetAddress address;
        try {
            address = InetAddress.getByName(host);
        } catch (UnknownHostException e) {
            throw new ServerStartException("bind address " + host + " does not resolve: give an address of this "
                    + "machine such as 127.0.0.1 or 0.0.0.0");
        }
        try {
            if (address.isAnyLocalAddress() || address.isLoopbackAddress()
                    || NetworkInterface.getByInetAddress(address) != null) {
                return address;
            }
        } catch (SocketException e) {
            // cannot list interfaces: say so below
        }
        throw new ServerStartException("bind address " + host + " (" + address.getHostAddress()
                + ") is not an address of this machine: use 127.0.0.1, 0.0.0.0 or one of its interfaces' addresses");
    }

    private int listen(InetSocketAddress address, boolean reusePort) throws IOException {
        try {
            return NativeSockets.listenTcp(address, reusePort, BACKLOG);
        } catch (NativeSockets.NativeException e) {
            if (e.errno() == 98) {
                throw portInUse(address, e.getMessage());
            }
            throw e;
        }
    }

    /** A fixed port that another process's SO_REUSEPORT sockets hold would be shared with it: refuse. */
    private void ensureNotShared(InetSocketAddress address) throws IOException {
        int probe;
        try {
            probe = NativeSockets.listenTcp(address, false, -1); // bound, never listening: nothing is reset
        } catch (NativeSockets.NativeException e) {
            if (e.errno() == 98) {
                throw portInUse(address, e.getMessage());
            }
            throw e;
        }
        NativeSockets.close(probe);
    }

    private static ServerStartException portInUse(InetSocketAddress address, String detail) {
        return new ServerStartException("port " + address.getPort() + " on " + address.getAddress().getHostAddress()
                + " is in use (" + detail + "): stop what holds it, or choose another port (0 picks a free one)");
    }

    private void awaitReady(Worker w, String what) {
        try {
            w.ready.get(START_TIMEOUT_MILLIS + 5_000, TimeUnit.MILLISECONDS); // supervision kills it at START_TIMEOUT_MILLIS
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            throw cause instanceof ServerStartException sse ? sse
                    : new ServerStartException(what + ": " + w + " failed: " + cause, cause);
        } catch (TimeoutException e) {
            w.killReason = "not ready after " + START_TIMEOUT_MILLIS + " ms";
            w.process.kill(ExitCause.START_TIMEOUT);
            throw new ServerStartException(what + ": " + w + " was not ready after " + START_TIMEOUT_MILLIS
                    + " ms; its last output: " + w.process.stderrTail(500));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ServerStartException(what + ": interrupted while waiting for " + w);
        }
    }

    // ---------------------------------------------------------------- spawning and the control channel

    private Worker spawnLocked(int slot, int restarts, String lastRestart, Worker predecessor) {
        if (config.sharing == PortSharing.REUSE_PORT && !slotFds.containsKey(slot)) {
            try {
                slotFds.put(slot, listen(bindAddress, true));
            } catch (IOException e) {
                throw new ServerStartException("cannot open a listening socket for slot " + slot + ": " + e.getMessage(), e);
            }
        }
        WorkerProcess process = crew.spawn(); // it connects later: Supervision.connected finds it in workers
        var w = new Worker(process.name(), slot, restarts, lastRestart, process);
        w.predecessor = predecessor;
        if (predecessor != null) {
            predecessor.successor = w;
        }
        workers.add(w);
        return w;
    }

    /** The worker must name itself, prove its one-time token, and be the process the kernel names. */
    private int listenerFor(String who, long pid) {
        String[] parts = who.split(" ");
        if (parts.length != 2) {
            return -1;
        }
        lock.lock();
        try {
            for (Worker w : workers) {
                if (w.name.equals(parts[0]) && w.fdToken.equals(parts[1]) && w.process.pid() == pid && !w.gone) {
                    return config.sharing == PortSharing.SHARED_SOCKET ? sharedFd : slotFds.getOrDefault(w.slot, -1);
                }
            }
            return -1;
        } finally {
            lock.unlock();
        }
    }

    /** @return the worker of a supervised child, or null when it has gone already */
    private Worker workerOf(WorkerProcess child) {
        lock.lock();
        try {
            for (Worker w : workers) {
                if (w.process == child) {
                    return w;
                }
            }
            return null;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Core supervision's events for our workers. A worker is in {@link #workers} before it can
     * connect: {@link #spawnLocked} spawns and adds it under the lock that {@link #workerOf} takes.
     */
    private final class Supervision implements io.multiproc4j.internal.supervise.Supervisor.Listener {
        /** The worker proved its key: configure it, then read its frames here until the connection ends. */
        @Override
        public void connected(WorkerProcess child, FrameChannel channel) {
            Worker w;
            lock.lock();
            try {
                // Under the lock: SETUP is the first frame it gets, before any SHUTDOWN (stopLocked).
                w = workerOf(child);
                if (w == null) {
                    return; // exited (or was killed) before its connection was handed over
                }
                long max = config.maxRequests == 0 ? 0
                        : config.maxRequests + ThreadLocalRandom.current().nextLong(config.maxRequests / 10 + 1);
                var setup = new Protocol.Setup(w.name, config.http, config.className, config.classPath,
                        config.sharing.name(), fdServer == null ? "" : fdServer.path().toString(),
                        fdServer == null ? "" : w.fdToken, max, config.threads);
                channel.send(FrameType.SETUP, setup.encode());
                w.channel = channel;
            } catch (IOException e) {
                return; // it is gone already: its exit follows
            } finally {
                lock.unlock();
            }
            try {
                while (true) {
                    Frame frame = channel.receive();
                    switch (frame.type()) {
                        case READY -> onReady(w);
                        case INIT_FAILED -> w.initFailure = frame.reader().readUTF();
                        case RESULTS -> onResults(w, frame.reader());
                        case RETIRING -> onRetiring(w);
                        default -> throw new IOException("unexpected frame " + frame.type() + " from " + w);
                    }
                }
            } catch (IOException | RuntimeException e) {
                // EOF or a reset: the worker is exiting (exited() follows; a reset comes when it exits
                // with heartbeats unread). Only a worker still alive a while later broke the protocol.
                try {
                    if (!child.process().waitFor(5, TimeUnit.SECONDS) && w.killReason == null) {
                        w.killReason = "killed: its control channel broke (" + e + ") but it did not exit";
                        child.kill(ExitCause.KILLED);
                    }
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                }
            }
        }

        @Override
        public void exited(WorkerProcess child, io.multiproc4j.internal.supervise.Supervisor.Exit exit) {
            Worker w = workerOf(child);
            if (w != null) {
                onExit(w, exit);
            }
        }
    }

    private void onReady(Worker w) {
        lock.lock();
        try {
            if (w.gone || w.state == WorkerInfo.State.STOPPING) {
                return; // told to stop before it was ready (closing): it exits without serving
            }
            if (w.process.state() != WorkerProcess.State.STARTING) {
                return; // its process exited while this frame was read: exited() follows
            }
            if (!crew.ready(w.process)) {
                return; // its start timed out (or it died) just now: exited() follows
            }
            w.state = WorkerInfo.State.READY;
            w.lastPongNanos = System.nanoTime();
            w.lastBusySampleNanos = System.nanoTime();
            spawnBackoffMillis = 0;
            long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - w.startNanos);
            log.accept(w + " started in " + ms + " ms, slot " + w.slot
                    + (w.lastRestart == null ? "" : " (replacing: " + w.lastRestart + ")"));
            Worker old = w.predecessor;
            if (old != null && !old.gone) {
                stopLocked(old, w.lastRestart == null ? "replaced" : w.lastRestart, false);
            }
            changed.signalAll();
        } finally {
            lock.unlock();
        }
        w.ready.complete(null);
    }

    private void onResults(Worker w, DataInputStream in) throws IOException {
        byte kind = in.readByte();
        if (kind == Protocol.PING) {
            in.readLong();
            long served = in.readLong();
            in.readInt();
            long busyNanos = in.readLong();
            long now = System.nanoTime();
            synchronized (w) {
                long dt = now - w.lastBusySampleNanos;
                if (dt > 0 && w.lastBusySampleNanos != 0) {
                    w.busyFraction = Math.min(1.0, Math.max(0.0, (busyNanos - w.lastBusyNanos) / (double) dt));
                }
                w.lastBusyNanos = busyNanos;
                w.lastBusySampleNanos = now;
            }
            w.served = served;
            w.lastPongNanos = now;
        } else {
            AcceptorDispatch.onAnswer(w, in);
            w.lastPongNanos = System.nanoTime(); // an answer is as good as a heartbeat
        }
    }

    private void onRetiring(Worker w) {
        lock.lock();
        try {
            if (phase != Phase.RUNNING || w.gone || w.state != WorkerInfo.State.READY || w.successor != null) {
                return;
            }
            String why = "recycled after " + w.served + "+ requests (maxRequestsPerWorker " + config.maxRequests + ")";
            log.accept(w + " " + why + ": starting its successor");
            try {
                spawnLocked(w.slot, w.restarts + 1, why, w);
            } catch (RuntimeException e) {
                log.accept("cannot start a successor for " + w + ": " + e.getMessage() + " (it keeps serving)");
            }
        } finally {
            lock.unlock();
        }
    }

    /**
     * Tells a worker to stop accepting and exit once its requests are done: supervision's retire
     * (the exit will carry RECYCLED for a recycle, else SHUTDOWN) and stop, which kills it if it is
     * still running {@value #STOP_TIMEOUT_MILLIS} ms later.
     */
    private void stopLocked(Worker w, String reason, boolean slotClosing) {
        if (w.gone || w.state == WorkerInfo.State.STOPPING) {
            return;
        }
        w.state = WorkerInfo.State.STOPPING;
        w.stopReason = reason;
        crew.retire(w.process, reason.startsWith("recycled") ? ExitCause.RECYCLED : ExitCause.SHUTDOWN);
        if (slotClosing && config.sharing == PortSharing.REUSE_PORT) {
            // The slot's socket goes for good: the worker drains its queue, then closes the last copy.
            Integer fd = slotFds.remove(w.slot);
            if (fd != null) {
                NativeSockets.close(fd);
            }
        }
        w.drainOnStop = slotClosing && config.sharing == PortSharing.REUSE_PORT; // only a REUSE_PORT socket closes
        if (w.channel == null) {
            w.killReason = "stopped before it connected (" + reason + ")";
            crew.stop(w.process, null, Duration.ZERO); // cannot be asked: killed at once
            return;
        }
        crew.stop(w.process, () -> {
            if (w.requests.sending == 0) {
                sendShutdownLocked(w);
            } // else the last ACCEPTOR request being written to it sends it: SHUTDOWN must follow every request
        }, Duration.ofMillis(STOP_TIMEOUT_MILLIS));
        changed.signalAll();
    }

    /**
     * SHUTDOWN goes after every request dispatched to the worker: in ACCEPTOR mode a worker exits
     * once it is stopping and has nothing in flight, so a request written after SHUTDOWN would be
     * lost with it.
     */
    void sendShutdownLocked(Worker w) {
        if (w.shutdownSent) {
            return;
        }
        w.shutdownSent = true;
        try {
            w.channel.send(FrameType.SHUTDOWN, new byte[] {(byte) (w.drainOnStop ? 1 : 0)});
        } catch (IOException e) {
            w.process.kill(ExitCause.KILLED); // its channel is gone: it is exiting anyway
        }
    }

    /** Supervision saw the worker's process exit (its stderr tail read, its frames all handled). */
    private void onExit(Worker w, io.multiproc4j.internal.supervise.Supervisor.Exit exit) {
        int code = exit.exitCode();
        List<String> tail = exit.stderrTail();
        String cause = w.initFailure != null ? "could not start the app: " + firstLine(w.initFailure)
                : w.killReason != null ? w.killReason
                : exit.cause() == ExitCause.START_TIMEOUT ? "killed: not ready after " + START_TIMEOUT_MILLIS + " ms"
                : w.stopReason != null && code == 0 ? "stopped (" + w.stopReason + ")"
                : w.stopReason != null && exit.cause() == ExitCause.KILLED
                        ? "killed: still running " + STOP_TIMEOUT_MILLIS + " ms after it was told to stop (" + w.stopReason + ")"
                : exitDescription(code, tail);
        boolean wasReady;
        lock.lock();
        try {
            w.gone = true;
            workers.remove(w);
            // Under the lock and after the removal: dispatch picks workers under the lock from the
            // list, so no request can reach w after this (failed outside it, a request dispatched in
            // between would wait for an answer that never comes). The 503s are written to the
            // clients' non-blocking sockets here (never blocking; the rest of one goes to the loop),
            // each under its client's monitor, which AcceptorDispatch takes after this lock, never before.
            AcceptorDispatch.failRequests(w, cause);
            wasReady = w.ready.isDone();
            log.accept(w + " exited: " + cause + " after " + w.served + " request(s) [" + exit.cause() + "]");
            if (w.successor != null && !w.successor.gone && !w.successor.ready.isDone()) {
                w.successor.predecessor = null; // the successor now replaces a dead worker: nothing to stop
            }
            if (!wasReady && w.predecessor != null) {
                w.predecessor.successor = null; // the predecessor keeps serving; it may retire again later
            }
            if (phase == Phase.RUNNING && w.stopReason == null && wasReady) {
                boolean slotTaken = workers.stream().anyMatch(o -> o.slot == w.slot && o.state != WorkerInfo.State.STOPPING);
                if (!slotTaken) {
                    try {
                        spawnLocked(w.slot, w.restarts + 1, cause, null);
                    } catch (RuntimeException e) {
                        log.accept("cannot start a replacement for " + w + ": " + e.getMessage() + " (the monitor retries)");
                        backOffLocked();
                    }
                }
            }
            if (!wasReady) {
                backOffLocked();
            }
            changed.signalAll();
        } finally {
            lock.unlock();
        }
        if (!wasReady) {
            w.ready.completeExceptionally(new ServerStartException(w.initFailure != null
                    ? w.initFailure : w + " exited before it was ready: " + cause
                    + (tail.isEmpty() ? "" : "; last output: " + String.join(" | ", tail.subList(Math.max(0, tail.size() - 5), tail.size())))));
        }
    }

    /** Spawning failed or a worker died before it was ready: wait 1 s, then twice as long each time, up to 30 s. */
    private void backOffLocked() {
        spawnBackoffMillis = Math.min(30_000, spawnBackoffMillis == 0 ? 1000 : spawnBackoffMillis * 2);
        nextSpawnNanos = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(spawnBackoffMillis);
    }

    private static String firstLine(String s) {
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }

    private static String exitDescription(int code, List<String> tail) {
        String what;
        if (code > 128 && code < 160) {
            int signal = code - 128;
            String name = switch (signal) {
                case 9 -> "SIGKILL";
                case 15 -> "SIGTERM";
                case 6 -> "SIGABRT";
                case 11 -> "SIGSEGV";
                case 2 -> "SIGINT";
                case 1 -> "SIGHUP";
                default -> "signal " + signal;
            };
            what = "crashed: killed by " + name;
        } else {
            what = "crashed: exit code " + code;
        }
        return tail.isEmpty() ? what : what + " (last output: " + tail.getLast() + ")";
    }

    // ---------------------------------------------------------------- monitor: heartbeats, scaling

    private long tickMillis() {
        return Math.max(20, Math.min(WorkerModel.SAMPLE_MILLIS, config.workerTimeout.toMillis() / 4));
    }

    private void monitorLoop() {
        long seq = 0;
        while (true) {
            List<Worker> snapshot;
            lock.lock();
            try {
                if (phase == Phase.CLOSED) {
                    return;
                }
                snapshot = List.copyOf(workers);
            } finally {
                lock.unlock();
            }
            long now = System.nanoTime();
            long timeoutNanos = config.workerTimeout.toNanos();
            seq++;
            for (Worker w : snapshot) {
                FrameChannel ch = w.channel;
                if (w.state == WorkerInfo.State.STARTING) {
                    continue; // supervision's start timeout kills one that is not READY in time
                }
                if (now - w.lastPongNanos > timeoutNanos && w.killReason == null) {
                    w.killReason = "killed: did not answer its heartbeat for " + config.workerTimeout.toMillis() + " ms";
                    w.process.kill(ExitCause.KILLED);
                    continue;
                }
                if (ch != null) {
                    try {
                        var ping = new PayloadWriter();
                        ping.writeByte(Protocol.PING);
                        ping.writeLong(seq);
                        ch.send(FrameType.BATCH, ping.toByteArray());
                    } catch (IOException e) {
                        // exiting: onExit follows
                    }
                }
            }
            lock.lock();
            try {
                if (phase == Phase.RUNNING) {
                    try {
                        if (now - lastSampleNanos >= TimeUnit.MILLISECONDS.toNanos(WorkerModel.SAMPLE_MILLIS)) {
                            lastSampleNanos = now;
                            autoscaleLocked(now);
                        }
                        matchTargetLocked(now);
                    } catch (RuntimeException e) {
                        // a worker could not be spawned (no memory for a JVM, no file descriptors): retry later
                        log.accept("cannot start a worker: " + e.getMessage());
                        backOffLocked();
                    }
                }
                changed.await(tickMillis(), TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                return;
            } finally {
                lock.unlock();
            }
        }
    }

    private boolean queuedLocked() {
        if (dispatch != null) {
            return dispatch.requestsWaitingLocked();
        }
        try {
            if (sharedFd >= 0) {
                return NativeSockets.pollReadable(sharedFd, 0);
            }
            for (int fd : slotFds.values()) {
                if (NativeSockets.pollReadable(fd, 0)) {
                    return true;
                }
            }
        } catch (IOException e) {
            // closing
        }
        return false;
    }

    private void autoscaleLocked(long now) {
        WorkerModel model = config.model;
        if (!model.autoscaled()) {
            return;
        }
        boolean queued = queuedLocked();
        queuedStreak = queued ? queuedStreak + 1 : 0;
        double busy = 0;
        int ready = 0;
        boolean starting = false;
        for (Worker w : workers) {
            if (w.state == WorkerInfo.State.READY) {
                busy += w.busyFraction;
                ready++;
            } else if (w.state == WorkerInfo.State.STARTING) {
                starting = true;
            }
        }
        double meanBusy = ready == 0 ? 0 : busy / ready;
        if (target == 0 && queued) {
            target = 1;
            log.accept("scale up to 1 worker: a connection is waiting");
        } else if ((meanBusy >= WorkerModel.SCALE_UP_BUSY || queuedStreak >= 2) && target < model.max() && !starting) {
            target++;
            log.accept(String.format("scale up to %d workers (mean busy %.2f, queued %s)", target, meanBusy, queued));
            idleSinceNanos = 0;
        } else if (meanBusy < WorkerModel.SCALE_DOWN_BUSY && !queued) {
            if (idleSinceNanos == 0) {
                idleSinceNanos = now;
            } else if (now - idleSinceNanos >= model.idleTimeout().toNanos() && target > model.min()) {
                target--;
                idleSinceNanos = now;
                log.accept(String.format("scale down to %d workers (mean busy %.2f for %d ms)", target, meanBusy,
                        model.idleTimeout().toMillis()));
            }
        } else {
            idleSinceNanos = 0;
        }
    }

    /** Slots in use: held by a worker that is not stopping (a successor shares its predecessor's). */
    private TreeSet<Integer> activeSlotsLocked() {
        TreeSet<Integer> slots = new TreeSet<>();
        for (Worker w : workers) {
            if (w.state != WorkerInfo.State.STOPPING) {
                slots.add(w.slot);
            }
        }
        return slots;
    }

    private void matchTargetLocked(long now) {
        TreeSet<Integer> slots = activeSlotsLocked();
        if (slots.size() < target && now >= nextSpawnNanos) {
            int free = 0;
            while (slots.contains(free)) {
                free++;
            }
            spawnLocked(free, 0, null, null);
        } else if (slots.size() > target) {
            int slot = slots.last();
            for (Worker w : List.copyOf(workers)) {
                if (w.slot == slot && w.state != WorkerInfo.State.STOPPING) {
                    stopLocked(w, "scaled down to " + target, slot != 0);
                }
            }
        }
    }

    // ---------------------------------------------------------------- public operations

    /** @return the bound port */
    public int port() {
        return port;
    }

    /** @return how the workers share the port */
    public PortSharing sharing() {
        return config.sharing;
    }

    /** @return the workers now, by slot */
    public List<WorkerInfo> workers() {
        lock.lock();
        try {
            return workers.stream()
                    .sorted(Comparator.comparingInt((Worker w) -> w.slot).thenComparing(w -> w.started))
                    .map(w -> new WorkerInfo(w.name, w.process.pid(), w.state, w.served, w.started, w.slot, w.restarts,
                            w.lastRestart))
                    .toList();
        } finally {
            lock.unlock();
        }
    }

    /** @return the number of worker slots the supervisor aims for now */
    public int targetWorkers() {
        lock.lock();
        try {
            return target;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Rolling restart: every worker gets a successor (new JVM, class path read again); each old
     * worker stops accepting only once its successor is ready, then finishes its requests and exits.
     * Returns when every old worker has gone.
     *
     * @throws ServerStartException when a new worker cannot start (its old one keeps serving)
     * @throws IllegalStateException when the supervisor is closed
     */
    public void reload() {
        long t0 = System.nanoTime();
        List<Worker> olds = new ArrayList<>();
        List<Worker> news = new ArrayList<>();
        lock.lock();
        try {
            requireRunning("reload");
            for (Worker w : List.copyOf(workers)) {
                if (w.state != WorkerInfo.State.STOPPING && w.successor == null) {
                    olds.add(w);
                    news.add(spawnLocked(w.slot, w.restarts + 1, "reload", w));
                }
            }
            log.accept("reload: starting " + news.size() + " new worker(s)");
        } finally {
            lock.unlock();
        }
        ServerStartException failure = null;
        for (Worker w : news) {
            try {
                awaitReady(w, "reload");
            } catch (ServerStartException e) {
                failure = failure == null ? e : failure;
            }
        }
        if (failure != null) {
            log.accept("reload failed: " + firstLine(failure.getMessage()));
            throw new ServerStartException("reload failed, the old workers whose successor did not start keep serving: "
                    + failure.getMessage(), failure);
        }
        awaitGone(olds, STOP_TIMEOUT_MILLIS);
        log.accept("reload done in " + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0) + " ms");
    }

    /** Read without the lock, per ACCEPTOR request: a closing supervisor ends each connection after its answer. */
    boolean isClosing() {
        return phase != Phase.RUNNING;
    }

    /** Read under the lock by an ACCEPTOR request that waits for a READY worker: none will come. */
    boolean isClosed() {
        return phase == Phase.CLOSED;
    }

    private void requireRunning(String what) {
        if (phase != Phase.RUNNING) {
            throw new IllegalStateException("cannot " + what + ": the supervisor is " + phase.name().toLowerCase(java.util.Locale.ROOT));
        }
    }

    /**
     * Waits until every worker in {@code list} has gone (its exit handled). The kill of a worker that
     * ignores its stop is the crew's ({@link #stopLocked}: {@value #STOP_TIMEOUT_MILLIS} ms, or at
     * once for one that never connected) and shutdownNow's; this wait kills again only as a
     * backstop, {@value #BACKSTOP_MILLIS} ms after {@code millis}, and then every 5 s.
     */
    private void awaitGone(List<Worker> list, long millis) {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis + BACKSTOP_MILLIS);
        lock.lock();
        try {
            while (list.stream().anyMatch(w -> !w.gone)) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    for (Worker w : list) {
                        if (!w.gone) {
                            log.accept(w + " is not reported gone " + (millis + BACKSTOP_MILLIS)
                                    + " ms after it was told to stop: killing it");
                            if (w.killReason == null) {
                                w.killReason = "killed: still running " + millis + " ms after it was told to stop";
                            }
                            w.process.kill(ExitCause.KILLED);
                        }
                    }
                    left = TimeUnit.SECONDS.toNanos(5);
                    deadline = System.nanoTime() + left;
                }
                changed.awaitNanos(Math.min(left, TimeUnit.MILLISECONDS.toNanos(100)));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            lock.unlock();
        }
    }

    /**
     * Changes the number of workers by {@code delta}, within the model's bounds (a prefork model
     * becomes that many workers, at least one). Returns at once; the monitor starts or stops them.
     *
     * @param delta workers more (positive) or fewer (negative)
     * @return the new target
     */
    public int scale(int delta) {
        lock.lock();
        try {
            requireRunning("scale");
            WorkerModel m = config.model;
            int min = m.autoscaled() ? m.min() : 1;
            int max = m.autoscaled() ? m.max() : 1024;
            int next = Math.max(min, Math.min(max, target + delta));
            if (next != target) {
                log.accept("scale to " + next + " worker(s) (was " + target + ")");
                target = next;
                idleSinceNanos = 0;
                changed.signalAll();
            }
            return target;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Graceful stop: stops accepting (ACCEPTOR), lets every worker finish its requests, then closes
     * the sockets. Idempotent.
     */
    @Override
    public void close() {
        List<Worker> all;
        lock.lock();
        try {
            if (phase != Phase.RUNNING) {
                return;
            }
            phase = Phase.CLOSING;
            log.accept("stopping gracefully");
        } finally {
            lock.unlock();
        }
        closeQuietly(acceptor);
        if (dispatch != null) {
            dispatch.awaitClientsIdle(); // ACCEPTOR holds the clients: what is in flight is answered first
        }
        lock.lock();
        try {
            all = List.copyOf(workers);
            for (Worker w : all) {
                stopLocked(w, "server stopping", false);
            }
        } finally {
            lock.unlock();
        }
        awaitGone(all, STOP_TIMEOUT_MILLIS);
        release();
        log.accept("stopped");
    }

    /** Fast stop: kills every worker (requests in flight fail) and closes the sockets. */
    public void shutdownNow() {
        List<Worker> all;
        lock.lock();
        try {
            if (phase == Phase.CLOSED) {
                return;
            }
            phase = Phase.CLOSING;
            all = List.copyOf(workers);
            for (Worker w : all) {
                w.stopReason = "server stopped now";
                w.killReason = "killed: server stopped now";
                w.process.kill(ExitCause.KILLED);
            }
        } finally {
            lock.unlock();
        }
        closeQuietly(acceptor);
        if (dispatch != null) {
            dispatch.closeClients();
        }
        awaitGone(all, 5000);
        release();
    }

    private void release() {
        lock.lock();
        try {
            phase = Phase.CLOSED;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
        if (monitor != null) {
            monitor.interrupt();
        }
        if (fdServer != null) {
            fdServer.close();
        }
        NativeSockets.close(sharedFd);
        for (int fd : slotFds.values()) {
            NativeSockets.close(fd);
        }
        slotFds.clear();
        if (supervision != null) {
            supervision.close(); // its workers are gone: awaited above
        }
        if (directory != null) {
            deleteTree(directory);
        }
    }

    static void closeQuietly(java.io.Closeable c) {
        if (c == null) {
            return;
        }
        try {
            c.close();
        } catch (IOException e) {
            // closing anyway
        }
    }
}
