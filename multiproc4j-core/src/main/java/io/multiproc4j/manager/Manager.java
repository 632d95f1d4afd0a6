package io.multiproc4j.manager;

import io.multiproc4j.WorkerOutput;
import io.multiproc4j.internal.manager.Addresses;
import io.multiproc4j.internal.manager.Kind;
import io.multiproc4j.internal.manager.ManagerDirectories;
import io.multiproc4j.internal.manager.ManagerServer;
import io.multiproc4j.internal.manager.ManagerServerMain;
import io.multiproc4j.internal.manager.ProxyHandler;
import io.multiproc4j.internal.supervise.ChildSession;
import io.multiproc4j.internal.supervise.WorkerProcess.LaunchSpec;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.SocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Collection;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.locks.Lock;

/**
 * Objects owned by a server process and used by any number of processes through proxies that
 * implement the ordinary interfaces: Python's {@code multiprocessing.Manager}, without pickle on a
 * network port and without hanging when the manager is gone.
 *
 * <pre>{@code
 * try (Manager manager = Manager.start();               // its own JVM
 *      Pool pool = Pool.processes(4)) {
 *     ConcurrentMap<String, Integer> scores = manager.map("scores");
 *     pool.map(x -> scores.merge("k", 1, Integer::sum), range(0, 100));   // proxies travel with tasks
 *     scores.get("k");                                                      // 100
 * }
 * }</pre>
 *
 * <h2>Three ways to have one</h2>
 * <ul>
 *   <li>{@link #start()}: a manager JVM owned by this one, on a private Unix-domain socket with a
 *       random key; it exits when this JVM closes it or dies (SIGKILL included).</li>
 *   <li>{@link #serve(SocketAddress, byte[])}: this JVM serves, on a TCP port or a socket file.</li>
 *   <li>{@link #connect(SocketAddress, byte[])}: a client of a manager served elsewhere.</li>
 * </ul>
 *
 * <h2>Proxies</h2>
 * Each accessor creates the named object on the manager if it does not exist and returns a proxy;
 * the same name gives the same object to every process. Proxies are {@code Serializable}: captured by
 * a pool task they connect from the worker (one connection per manager per JVM). A proxy can be stored
 * in another shared object (a list of maps): it still names the same object.
 *
 * <h2>What a serialized proxy carries</h2>
 * Never the key. It carries a capability the manager issued to the connection of the process that
 * serialized it: another process connects with it (a pool worker that received a task capturing
 * the proxy), unless it already has a connection of its own to that manager. The capability lives as
 * long as that connection (until this handle is closed, or its process dies) or until
 * {@link #revokeSerializedProxies()}; then the processes that connected with it are disconnected and
 * copies of the bytes are refused with {@link ManagerAuthenticationException}.
 *
 * <h2>Failure</h2>
 * When the manager is gone, every call fails fast with {@link ManagerUnavailableException}: calls
 * waiting in {@code take} or {@code lock} are woken by the closed connection, prompt calls also have
 * a reply timeout ({@link ManagerBuilder#callTimeout}). A wrong key fails with
 * {@link ManagerAuthenticationException}. A client that dies releases the locks it held.
 *
 * <h2>Security</h2>
 * Both sides prove the key by HMAC-SHA256 challenge–response; the key never crosses the wire. The
 * server deserializes only JDK value types and collections, registered interfaces and the packages
 * and classes declared with {@link ManagerBuilder#allowPackages}/{@link ManagerBuilder#allowClasses},
 * refusing anything else before it is instantiated.
 */
public final class Manager implements AutoCloseable {
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final Duration START_TIMEOUT = Duration.ofSeconds(60);
    private static final int OUTPUT_LINES = 200;

    private final String address;
    private final byte[] key;
    private final Duration callTimeout;
    private final Duration connectTimeout;
    private final ChildSession session;
    private final Process process;
    private final ManagerServer server;
    private final Path socketDirectory;
    private volatile boolean closed;

    private Manager(String address, byte[] key, ManagerBuilder builder, ChildSession session, ManagerServer server,
            Path socketDirectory) {
        this.address = address;
        this.key = key;
        this.callTimeout = builder.callTimeout;
        this.connectTimeout = builder.connectTimeout;
        this.session = session;
        this.process = session == null ? null : session.child().process();
        this.server = server;
        this.socketDirectory = socketDirectory;
    }

    /** @return a builder for a manager with options (allowed packages, timeouts, JVM options) */
    public static ManagerBuilder builder() {
        return new ManagerBuilder();
    }

    /**
     * Starts a manager in its own JVM on a private Unix-domain socket with a random 32-byte key.
     *
     * @return the manager; close it to stop its JVM
     * @throws ManagerUnavailableException when the JVM cannot start
     */
    public static Manager start() {
        return builder().start();
    }

    /**
     * Serves a manager from this JVM.
     *
     * @param address where to listen: an {@code InetSocketAddress} (port 0 picks one; bind a loopback
     *                address unless other machines must reach it) or a {@code UnixDomainSocketAddress}
     * @param key     the authentication key, at least 16 bytes (32 random bytes are best)
     * @return the manager; close it to stop serving
     */
    public static Manager serve(SocketAddress address, byte[] key) {
        return builder().serve(address, key);
    }

    /**
     * Connects to a running manager.
     *
     * @param address where it listens
     * @param key     its key
     * @return a client; closing it closes this JVM's connection, not the manager
     * @throws ManagerUnavailableException    when nobody answers there
     * @throws ManagerAuthenticationException when the keys differ
     */
    public static Manager connect(SocketAddress address, byte[] key) {
        return builder().connect(address, key);
    }

    /**
     * Serves a manager from this JVM until the JVM exits: the entry point of
     * {@code multiproc manager --port P --key-file F}.
     *
     * @param address       where to listen
     * @param key           the authentication key, at least 16 bytes
     * @param allowPackages packages whose classes clients may send
     * @throws InterruptedException when the serving thread is interrupted
     */
    public static void runServer(SocketAddress address, byte[] key, Collection<String> allowPackages)
            throws InterruptedException {
        Manager manager = builder().allowPackages(allowPackages.toArray(String[]::new)).serve(address, key);
        Runtime.getRuntime().addShutdownHook(new Thread(manager::close, "multiproc4j-manager-shutdown"));
        manager.server.awaitTermination();
    }

    static Manager start(ManagerBuilder builder) {
        byte[] key = new byte[32];
        RANDOM.nextBytes(key);
        Path directory = null;
        String bind;
        try {
            if (builder.tcp) {
                bind = "tcp:127.0.0.1:0";
            } else {
                // a private directory (mode 700) so that only this user can reach the socket; one
                // left by an owner killed together with its manager is removed first
                ManagerDirectories.removeLeftovers();
                directory = ManagerDirectories.createPrivate();
                bind = "unix:" + directory.resolve("s");
            }
        } catch (IOException e) {
            throw new ManagerUnavailableException("cannot create a directory for the manager's socket: " + e, e);
        }
        var config = new StringBuilder();
        config.append("key ").append(HexFormat.of().formatHex(key)).append('\n');
        config.append("address ").append(bind).append('\n');
        builder.packages.forEach(p -> config.append("allow-package ").append(p).append('\n'));
        builder.classes.forEach(c -> config.append("allow-class ").append(c).append('\n'));
        config.append("max-frame ").append(builder.maxFrameBytes).append('\n');
        if (builder.allowOtherUsers) {
            config.append("allow-other-users\n");
        }
        var spec = LaunchSpec.of("manager", ManagerServerMain.class, builder.jvmOptions, WorkerOutput.PREFIXED)
                .withTailLines(OUTPUT_LINES);
        try {
            // the same supervision as a pool's workers: the key and config never on the command line
            ChildSession session = ChildSession.start(spec, START_TIMEOUT, ManagerServerMain.CONFIG_FRAME,
                    config.toString().getBytes(StandardCharsets.UTF_8), ManagerServerMain.READY_FRAME);
            String address = new String(session.readyPayload(), StandardCharsets.UTF_8);
            return new Manager(address, key, builder, session, null, directory);
        } catch (ChildSession.StartFailedException | InterruptedException e) {
            deleteQuietly(directory);
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            throw new ManagerUnavailableException("the manager's JVM did not start: " + e.getMessage(), e);
        }
    }

    static Manager serve(ManagerBuilder builder, SocketAddress address, byte[] key) {
        checkKey(key);
        try {
            ManagerServer server = ManagerServer.start(address, key, builder.packages, builder.classes,
                    builder.maxFrameBytes, builder.allowOtherUsers);
            return new Manager(server.address(), key.clone(), builder, null, server, null);
        } catch (IOException e) {
            throw new UncheckedIOException(e.getMessage(), e);
        }
    }

    static Manager connect(ManagerBuilder builder, SocketAddress address, byte[] key) {
        checkKey(key);
        var manager = new Manager(Addresses.format(address), key.clone(), builder, null, null, null);
        ProxyHandler.managerCall(manager.address, manager.key, "$ping", "", new Object[0], manager.callTimeout,
                manager.connectTimeout);
        return manager;
    }

    private static void checkKey(byte[] key) {
        if (key == null || key.length < 16) {
            throw new IllegalArgumentException("a manager's key must have at least 16 bytes (32 random bytes are best), had "
                    + (key == null ? "none" : key.length));
        }
    }

    /** @return where this manager listens */
    public SocketAddress address() {
        return Addresses.parse(address);
    }

    /** @return the manager's JVM when {@link #start()} made it; empty for a served or connected manager */
    public Optional<ProcessHandle> serverProcess() {
        return process == null ? Optional.empty() : Optional.of(process.toHandle());
    }

    /** @return a copy of the key (tests that play a client in another process) */
    byte[] keyForTests() {
        return key.clone();
    }

    /** @return the last lines the manager's JVM printed (tests and diagnostics) */
    List<String> serverOutput() {
        return session == null ? List.of() : session.child().outputTail();
    }

    /**
     * @param name the map's name
     * @param <K>  key type
     * @param <V>  value type
     * @return a {@code ConcurrentHashMap} on the manager; {@code merge}/{@code compute} with a
     *         serializable function run there atomically, with any other function as an atomic
     *         compare-and-set loop from here
     */
    @SuppressWarnings("unchecked")
    public <K, V> ConcurrentMap<K, V> map(String name) {
        return proxy(Kind.MAP, name, ConcurrentMap.class, 0);
    }

    /**
     * @param name the list's name
     * @param <E>  element type
     * @return a synchronized list on the manager; iterators walk a snapshot
     */
    @SuppressWarnings("unchecked")
    public <E> List<E> list(String name) {
        return proxy(Kind.LIST, name, List.class, 0);
    }

    /**
     * @param name the set's name
     * @param <E>  element type
     * @return a concurrent hash set on the manager
     */
    @SuppressWarnings("unchecked")
    public <E> Set<E> set(String name) {
        return proxy(Kind.SET, name, Set.class, 0);
    }

    /**
     * @param name the queue's name
     * @param <E>  element type
     * @return an unbounded blocking queue on the manager
     */
    public <E> BlockingQueue<E> queue(String name) {
        return queue(name, 0);
    }

    /**
     * @param name     the queue's name
     * @param capacity its capacity; 0 for unbounded (used when the queue is created)
     * @param <E>      element type
     * @return a blocking queue on the manager
     */
    @SuppressWarnings("unchecked")
    public <E> BlockingQueue<E> queue(String name, int capacity) {
        if (capacity < 0) {
            throw new IllegalArgumentException("capacity must be 0 (unbounded) or positive, was " + capacity);
        }
        return proxy(Kind.QUEUE, name, BlockingQueue.class, capacity);
    }

    /**
     * @param name the namespace's name
     * @return named attributes on the manager
     */
    public Namespace namespace(String name) {
        return proxy(Kind.NAMESPACE, name, Namespace.class, 0);
    }

    /**
     * @param name the value's name
     * @param <T>  its type
     * @return one value on the manager, initially {@code null}
     */
    @SuppressWarnings("unchecked")
    public <T> ManagedValue<T> value(String name) {
        return proxy(Kind.VALUE, name, ManagedValue.class, 0);
    }

    /**
     * @param name the lock's name
     * @return a lock on the manager, owned by the calling thread of the calling process; taking it
     *         twice is refused (use {@link #reentrantLock}); released when its holder's connection dies
     */
    public Lock lock(String name) {
        return proxy(Kind.LOCK, name, Lock.class, 0);
    }

    /**
     * @param name the lock's name
     * @return a reentrant lock on the manager; released when its holder's connection dies
     */
    public Lock reentrantLock(String name) {
        return proxy(Kind.REENTRANT_LOCK, name, Lock.class, 0);
    }

    /**
     * @param name    the semaphore's name
     * @param permits its permits (used when it is created)
     * @return a semaphore on the manager
     */
    public ManagedSemaphore semaphore(String name, int permits) {
        if (permits < 0) {
            throw new IllegalArgumentException("permits must not be negative, was " + permits);
        }
        return proxy(Kind.SEMAPHORE, name, ManagedSemaphore.class, permits);
    }

    /**
     * @param name the event's name
     * @return an event flag on the manager
     */
    public ManagedEvent event(String name) {
        return proxy(Kind.EVENT, name, ManagedEvent.class, 0);
    }

    /**
     * @param name the condition's name
     * @return a reentrant lock with a condition on the manager
     */
    public ManagedCondition condition(String name) {
        return proxy(Kind.CONDITION, name, ManagedCondition.class, 0);
    }

    /**
     * @param name    the barrier's name
     * @param parties how many parties it waits for (used when it is created)
     * @return a cyclic barrier on the manager
     */
    public ManagedBarrier barrier(String name, int parties) {
        if (parties < 1) {
            throw new IllegalArgumentException("a barrier needs at least one party, was " + parties);
        }
        return proxy(Kind.BARRIER, name, ManagedBarrier.class, parties);
    }

    /**
     * Registers a custom shared type: {@link #shared} then creates objects with {@code factory} on the
     * manager and returns proxies of {@code face}. Only {@code face}'s methods can be called; what
     * the real object throws arrives with its own type.
     *
     * <pre>{@code
     * manager.register("Counter", Counter.class, CounterImpl::new);
     * Counter hits = manager.shared("Counter", "hits", Counter.class);
     * }</pre>
     *
     * @param typeName the type's name
     * @param face     the interface proxies implement
     * @param factory  creates the real object, on the manager (shipped there when the manager runs in
     *                 another JVM: the class that wrote it must be allowed, see {@link SharedFactory})
     * @param <T>      the interface type
     */
    public <T> void register(String typeName, Class<T> face, SharedFactory<? extends T> factory) {
        if (!face.isInterface()) {
            throw new IllegalArgumentException(face.getName() + " is not an interface: a custom shared type is "
                    + "proxied by an interface, so that only its methods can be called");
        }
        if (server != null) {
            server.register(typeName, face, factory);
        } else {
            ProxyHandler.managerCall(address, key, "$register", typeName, new Object[] {face.getName(), factory},
                    callTimeout, connectTimeout);
        }
    }

    /**
     * @param typeName a type given to {@link #register}
     * @param name     the object's name
     * @param face     the registered interface
     * @param <T>      the interface type
     * @return a proxy to the named object, created by the type's factory if it does not exist
     */
    public <T> T shared(String typeName, String name, Class<T> face) {
        return proxy("custom:" + typeName, name, face, 0);
    }

    /**
     * Revokes the capability that proxies serialized by this process carry: processes that connected
     * with it lose their connection (their calls fail with {@link ManagerUnavailableException}), the
     * bytes of those proxies, wherever they were stored or logged, can no longer connect
     * ({@link ManagerAuthenticationException}), and proxies serialized from now on carry a new
     * capability. Proxies in processes that connected with the key are not affected.
     *
     * @throws IllegalStateException when this manager is closed
     */
    public void revokeSerializedProxies() {
        if (closed) {
            throw new IllegalStateException("this manager is closed");
        }
        ProxyHandler.revokeCapability(address, key, callTimeout, connectTimeout);
    }

    private <T> T proxy(Kind kind, String name, Class<T> face, int parameter) {
        return proxy(kind.name(), name, face, parameter);
    }

    private <T> T proxy(String kind, String name, Class<T> face, int parameter) {
        if (closed) {
            throw new IllegalStateException("this manager is closed");
        }
        if (name == null || name.isEmpty() || name.length() > 1000) {
            throw new IllegalArgumentException("a shared object's name must have 1 to 1000 characters, was " + name);
        }
        return ProxyHandler.create(address, key, kind, name, face, parameter, callTimeout, connectTimeout);
    }

    /**
     * Stops the manager's JVM ({@link #start()}), stops serving ({@link #serve}), or closes this
     * JVM's connection ({@link #connect}). Proxies fail with {@link ManagerUnavailableException} after.
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        ProxyHandler.disconnect(address, key);
        if (server != null) {
            server.close();
        }
        if (session != null) {
            session.close(Duration.ofSeconds(5)); // EOF on its lifeline: the manager closes and exits
            deleteQuietly(socketDirectory);
        }
    }

    private static void deleteQuietly(Path directory) {
        if (directory == null) {
            return;
        }
        try {
            Files.deleteIfExists(directory.resolve("s"));
            Files.deleteIfExists(directory);
        } catch (IOException e) {
            // litter in the temp directory, not a failure of close
        }
    }

    @Override
    public String toString() {
        return "Manager[" + address + (process != null ? ", pid " + process.pid() : "") + "]";
    }
}
