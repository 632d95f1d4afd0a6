package io.multiproc4j.internal.manager;

import io.multiproc4j.internal.codec.RemoteFailure;
import io.multiproc4j.internal.transport.PeerCredentials;
import io.multiproc4j.spi.Codec;
import java.io.ByteArrayInputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InvalidClassException;
import java.io.NotSerializableException;
import java.io.ObjectInputStream;
import java.io.ObjectStreamClass;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.AbstractMap;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * The manager's server: owns the shared objects and answers calls on them.
 *
 * <pre>
 *  acceptor (virtual thread) ──accept──► connection thread (platform, one per client)
 *                                          │ handshake (10 s deadline, 1 KiB frame limit)
 *                                          │ loop: CALL, prompt ──► run here, write REPLY here
 *                                          │       CALL, may block, would not block now ──► same
 *                                          │       CALL, may block ──► request thread (virtual, one per call)
 *                                          │                 decode args ({@link ArgCodec}, {@link AllowlistFilter})
 *                                          │                 invoke the interface method on the object
 *                                          │                 REPLY (written by the thread that has it)
 *                                          │       CANCEL ──► interrupt that request thread
 *                                          └ EOF ──► interrupt its requests, release its locks
 * </pre>
 *
 * <h2>Concurrency</h2>
 * A call that may block ({@code take}, {@code lock}, {@code await}: the client flags those that
 * declare {@code InterruptedException}, and {@code Lock.lock}) runs on its own virtual thread, so it
 * never holds up other calls of the same client or of others. Prompt calls run on the connection's
 * thread, in order. Connection threads are platform threads on purpose: a virtual thread blocked
 * in a socket read is woken through the JDK's poller and then scheduled on a carrier, two hand-offs
 * that measured ~80 µs per map operation against ~30 µs here (docs/BENCHMARKS.md, Managers); a
 * manager has one connection per client JVM, not per request, so their number stays small. The shared objects
 * are thread-safe themselves ({@code ConcurrentHashMap}, a synchronized list, JDK queues, the
 * owner-aware locks of {@link ServerSync}); the server adds no lock of its own around calls.
 * Objects are created once per (kind, name) by {@code computeIfAbsent}.
 *
 * <h2>Security</h2>
 * A client must prove the key ({@link Handshake}) before it may send more than
 * {@link ManagerLayout#HANDSHAKE_LIMIT} bytes; arguments are deserialized only through the
 * allowlist; only methods of the proxy's interface can be called (a method of the real object's
 * class that is not on its interface cannot even be named). A Unix-domain client is identified by
 * the kernel ({@link PeerCredentials}: pid, uid, gid, in every log line about it) and refused before
 * the handshake when it runs as another user, unless the server allows other users.
 *
 * <h2>Capabilities</h2>
 * A key session may ask for the {@link ProxyCapability} that the proxies it serializes carry
 * ({@code $grant}, one per session). The grant lives until that session ends or revokes it
 * ({@code $revoke}); either way the connections that authenticated with it are closed, and the
 * handshake refuses it from then on. A capability session's {@code $grant} answers its own
 * capability, and it may not revoke. {@code Grant.revoked} is checked under the grant's monitor when
 * a connection joins, so a handshake that races with a revocation cannot keep its connection.
 *
 * <h2>Shutdown</h2>
 * {@link #close()} closes the listener and every connection: clients' pending calls fail with
 * {@code ManagerUnavailableException} at once; a Unix-domain socket file is deleted.
 */
public final class ManagerServer implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger("io.multiproc4j.manager");
    private static final long HANDSHAKE_DEADLINE_MS = 10_000;
    /**
     * Connections that may be in their handshake at once. Each holds a platform thread and a
     * selector for up to {@link #HANDSHAKE_DEADLINE_MS}; without a bound, a peer that opens
     * connections and stays silent would make the manager start a thread per connection.
     * Authenticated connections do not count, so clients already served are never affected.
     */
    static final int MAX_PENDING_HANDSHAKES = 64;
    private static final Map<Class<?>, Map<String, Method>> METHODS = new ConcurrentHashMap<>();

    private final byte[] key;
    private final int maxFrame;
    private final boolean allowOtherUsers;
    private final Set<String> allowedClasses = ConcurrentHashMap.newKeySet();
    private final AllowlistFilter filter;
    private final ServerSocketChannel listener;
    private final String address;
    private final Path socketFile;
    private final Codec codec = Codec.standard();
    private final Map<String, Shared> objects = new ConcurrentHashMap<>();
    private final Map<String, Registered> types = new ConcurrentHashMap<>();
    private final Set<ManagerChannel> connections = ConcurrentHashMap.newKeySet();
    private final Map<String, Grant> grants = new ConcurrentHashMap<>();
    private final java.util.concurrent.Semaphore handshakes = new java.util.concurrent.Semaphore(MAX_PENDING_HANDSHAKES);
    private final CountDownLatch terminated = new CountDownLatch(1);
    private volatile boolean closed;

    private record Shared(Object target, Class<?> face) {}

    private record Registered(Class<?> face, Supplier<?> factory) {}

    /** A capability issued to a key session, and the connections that authenticated with it. */
    private static final class Grant {
        final ProxyCapability capability;
        // guarded by this:
        final Set<ManagerChannel> users = new java.util.HashSet<>();
        boolean revoked;

        Grant(ProxyCapability capability) {
            this.capability = capability;
        }
    }

    /** A call refused before it reached an object: the reason goes back to the client. */
    static final class Refusal extends Exception {
        private static final long serialVersionUID = 1L;

        Refusal(String message) {
            super(message, null, false, false);
        }
    }

    private ManagerServer(ServerSocketChannel listener, Path socketFile, byte[] key, Set<String> packages,
            Set<String> classes, int maxFrame, boolean allowOtherUsers) throws IOException {
        this.listener = listener;
        this.allowOtherUsers = allowOtherUsers;
        this.socketFile = socketFile;
        this.key = key.clone();
        this.maxFrame = maxFrame;
        this.allowedClasses.addAll(classes);
        this.filter = new AllowlistFilter(Set.copyOf(packages), allowedClasses);
        this.address = Addresses.format(listener.getLocalAddress());
    }

    /**
     * Binds and starts accepting.
     *
     * @param bind     a Unix-domain socket path or an IP address and port (0 picks one)
     * @param key      the authentication key, at least 16 bytes
     * @param packages packages whose classes clients may send (exact packages)
     * @param classes  classes clients may send, by binary name
     * @param maxFrame the largest message accepted after authentication
     * @return the running server
     * @throws IOException when the address cannot be bound
     */
    public static ManagerServer start(SocketAddress bind, byte[] key, Set<String> packages, Set<String> classes,
            int maxFrame) throws IOException {
        return start(bind, key, packages, classes, maxFrame, false);
    }

    /**
     * Binds and starts accepting.
     *
     * @param bind            a Unix-domain socket path or an IP address and port (0 picks one)
     * @param key             the authentication key, at least 16 bytes
     * @param packages        packages whose classes clients may send (exact packages)
     * @param classes         classes clients may send, by binary name
     * @param maxFrame        the largest message accepted after authentication
     * @param allowOtherUsers whether Unix-domain clients running as another user may try the key
     * @return the running server
     * @throws IOException when the address cannot be bound
     */
    public static ManagerServer start(SocketAddress bind, byte[] key, Set<String> packages, Set<String> classes,
            int maxFrame, boolean allowOtherUsers) throws IOException {
        ServerSocketChannel listener;
        Path socketFile = null;
        if (bind instanceof UnixDomainSocketAddress unix) {
            socketFile = unix.getPath();
            listener = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        } else if (bind instanceof InetSocketAddress) {
            listener = ServerSocketChannel.open();
        } else {
            throw new IllegalArgumentException("a manager listens on a UnixDomainSocketAddress or an InetSocketAddress, not "
                    + bind);
        }
        try {
            listener.bind(bind, 128);
        } catch (IOException e) {
            listener.close();
            throw new IOException("the manager cannot listen on " + bind + ": " + e.getMessage(), e);
        }
        var server = new ManagerServer(listener, socketFile, key, packages, classes, maxFrame, allowOtherUsers);
        Thread.ofVirtual().name("multiproc4j-manager-acceptor").start(server::acceptLoop);
        return server;
    }

    /** @return where clients connect, as text ({@link Addresses}) */
    public String address() {
        return address;
    }

    /**
     * Registers a custom type directly (in this process, so no serialization is involved).
     *
     * @param typeName the type's name
     * @param face     the interface its proxies implement
     * @param factory  creates each named object
     */
    public void register(String typeName, Class<?> face, Supplier<?> factory) {
        if (!face.isInterface()) {
            throw new IllegalArgumentException(face.getName() + " is not an interface: shared custom types are "
                    + "proxied by an interface, so that only its methods can be called");
        }
        Registered previous = types.putIfAbsent(typeName, new Registered(face, factory));
        if (previous != null && previous.face != face) {
            throw new IllegalArgumentException("type '" + typeName + "' is registered already with "
                    + previous.face.getName());
        }
        allowedClasses.add(face.getName());
    }

    /** Waits until the server is closed. @throws InterruptedException when interrupted */
    public void awaitTermination() throws InterruptedException {
        terminated.await();
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            listener.close();
        } catch (IOException e) {
            // closing: nothing to do
        }
        for (ManagerChannel channel : connections) {
            channel.close();
        }
        if (socketFile != null) {
            try {
                Files.deleteIfExists(socketFile);
            } catch (IOException e) {
                LOG.log(System.Logger.Level.WARNING, "could not delete the manager's socket file " + socketFile, e);
            }
        }
        terminated.countDown();
    }

    private void acceptLoop() {
        while (!closed) {
            SocketChannel socket;
            try {
                socket = listener.accept();
            } catch (IOException e) {
                if (!closed) {
                    LOG.log(System.Logger.Level.ERROR, "the manager stopped accepting connections", e);
                    close();
                }
                return;
            }
            if (!handshakes.tryAcquire()) {
                LOG.log(System.Logger.Level.WARNING, "manager " + address + " refused a connection: "
                        + MAX_PENDING_HANDSHAKES + " others are still in their handshake (a client that connects and "
                        + "stays silent is dropped after " + HANDSHAKE_DEADLINE_MS / 1000 + " s)");
                try {
                    socket.close();
                } catch (IOException e) {
                    // closing a refused connection
                }
                continue;
            }
            Thread.ofPlatform().daemon().name("multiproc4j-manager-connection").start(() -> serve(socket));
        }
    }

    /** One connection: its handshake holds one of {@link #handshakes} until it ends, either way. */
    private void serve(SocketChannel socket) {
        var released = new java.util.concurrent.atomic.AtomicBoolean();
        Runnable handshakeOver = () -> {
            if (released.compareAndSet(false, true)) {
                handshakes.release();
            }
        };
        try {
            serve(socket, handshakeOver);
        } finally {
            handshakeOver.run();
        }
    }

    private void serve(SocketChannel socket, Runnable handshakeOver) {
        ManagerChannel channel;
        try {
            channel = new ManagerChannel(socket);
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, "manager " + address + " could not set up a connection: " + e);
            try {
                socket.close();
            } catch (IOException ignored) {
                // already broken
            }
            return;
        }
        connections.add(channel);
        if (closed) {
            channel.close();
        }
        String remote = channel.remote();
        if (socketFile != null) {
            PeerCredentials peer = PeerCredentials.of(socket).orElse(null);
            if (peer != null) {
                remote = "a local process (" + peer.describe() + ")";
                LOG.log(System.Logger.Level.DEBUG, "manager " + address + ": connection from " + remote);
                if (!allowOtherUsers && !peer.sameUserAsThisProcess()) {
                    refuseOtherUser(channel, remote, peer);
                    return;
                }
            }
        }
        var authenticated = new CountDownLatch(1);
        Thread.ofVirtual().start(() -> {
            try {
                if (!authenticated.await(HANDSHAKE_DEADLINE_MS, TimeUnit.MILLISECONDS)) {
                    channel.close();  // a silent peer must not hold a connection open
                }
            } catch (InterruptedException e) {
                channel.close();
            }
        });
        ProxyCapability via;
        try {
            via = Handshake.server(channel, key, maxFrame, this::liveCapability);
        } catch (Handshake.Refused e) {
            LOG.log(System.Logger.Level.WARNING, "manager " + address + " refused a client from " + remote + ": "
                    + e.getMessage());
            channel.close();
            connections.remove(channel);
            return;
        } catch (IOException | RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "manager " + address + ": handshake with " + remote + " failed: " + e);
            channel.close();
            connections.remove(channel);
            return;
        } finally {
            authenticated.countDown();
        }
        if (via != null && !join(via, channel)) {
            channel.close();  // revoked while the handshake ran
            connections.remove(channel);
            return;
        }
        channel.limit(maxFrame);
        handshakeOver.run();
        var session = new ClientSession(remote, via);
        var inflight = new ConcurrentHashMap<Long, Thread>();
        try {
            while (true) {
                ManagerChannel.Frame frame = channel.receive();
                DataInputStream in = frame.reader();
                if (frame.type() == ManagerLayout.CALL) {
                    long id = in.readLong();
                    long thread = in.readLong();
                    String kind = in.readUTF();
                    String name = in.readUTF();
                    String method = in.readUTF();
                    boolean mayBlock = in.readBoolean();
                    int argLength = in.readInt();
                    if (argLength < 0 || argLength > in.available()) {
                        // checked before anything is allocated for it: the frame holds what it announces, or it lies
                        throw new java.io.StreamCorruptedException("a call announces " + argLength
                                + " bytes of arguments but its frame holds " + in.available());
                    }
                    byte[] args = in.readNBytes(argLength);
                    if (mayBlock && tryWithoutBlocking(channel, session, id, thread, kind, name, method, args)) {
                        continue;
                    }
                    if (!mayBlock) {
                        // prompt calls run here, in order: no thread hand-off
                        answer(channel, session, id, thread, kind, name, method, args);
                        continue;
                    }
                    Thread worker = Thread.ofVirtual().unstarted(() -> {
                        try {
                            answer(channel, session, id, thread, kind, name, method, args);
                        } finally {
                            inflight.remove(id);
                        }
                    });
                    inflight.put(id, worker);
                    worker.start();
                } else if (frame.type() == ManagerLayout.CANCEL) {
                    Thread worker = inflight.get(in.readLong());
                    if (worker != null) {
                        worker.interrupt();
                    }
                } else {
                    throw new IOException("unexpected frame type " + frame.type());
                }
            }
        } catch (java.io.EOFException | java.nio.channels.ClosedChannelException e) {
            // the client is gone
        } catch (IOException | RuntimeException e) {
            // a frame that breaks the protocol: this client is dropped, every other one is served on
            LOG.log(System.Logger.Level.WARNING, "manager " + address + " dropped " + remote
                    + ": it broke the protocol (" + e + ")");
        } finally {
            // order matters: mark closed and stop waiters first, then free what the client held
            session.closed = true;
            inflight.values().forEach(Thread::interrupt);
            session.releaseLocks();
            channel.close();
            connections.remove(channel);
            if (via != null) {
                leave(via, channel);
            }
            revokeIssued(session);
        }
    }

    /** A client of another user, refused before the handshake: it never sees a challenge. */
    private void refuseOtherUser(ManagerChannel channel, String remote, PeerCredentials peer) {
        String reason = "this manager serves clients of user " + PeerCredentials.thisProcessUser() + " only, and the "
                + "connecting process runs as " + peer.user() + "; run it as that user, or let other users try the key "
                + "with Manager.builder().allowOtherUsers()";
        LOG.log(System.Logger.Level.WARNING, "manager " + address + " refused " + remote + ": another user");
        try {
            channel.send(ManagerLayout.REFUSED, reason.getBytes(StandardCharsets.UTF_8));
        } catch (IOException e) {
            // gone already
        }
        channel.close();
        connections.remove(channel);
    }

    private ProxyCapability liveCapability(String id) {
        Grant grant = grants.get(id);
        return grant == null ? null : grant.capability;
    }

    /** @return false when the capability was revoked meanwhile */
    private boolean join(ProxyCapability capability, ManagerChannel channel) {
        Grant grant = grants.get(capability.idHex());
        if (grant == null) {
            return false;
        }
        synchronized (grant) {
            if (grant.revoked) {
                return false;
            }
            grant.users.add(channel);
            return true;
        }
    }

    private void leave(ProxyCapability capability, ManagerChannel channel) {
        Grant grant = grants.get(capability.idHex());
        if (grant != null) {
            synchronized (grant) {
                grant.users.remove(channel);
            }
        }
    }

    /** {@code $grant}: the capability this session's serialized proxies carry. */
    private byte[] grant(ClientSession session) {
        if (session.via != null) {
            return session.via.toBytes();
        }
        synchronized (session) {
            if (session.closed) {
                throw new IllegalStateException("the session is closing");
            }
            if (session.issued == null) {
                ProxyCapability fresh = ProxyCapability.random();
                grants.put(fresh.idHex(), new Grant(fresh));
                session.issued = fresh;
            }
            return session.issued.toBytes();
        }
    }

    /** Forgets the capability a session issued and disconnects whoever connected with it. */
    private void revokeIssued(ClientSession session) {
        ProxyCapability issued;
        synchronized (session) {
            issued = session.issued;
            session.issued = null;
        }
        if (issued == null) {
            return;
        }
        Grant grant = grants.remove(issued.idHex());
        if (grant == null) {
            return;
        }
        List<ManagerChannel> users;
        synchronized (grant) {
            grant.revoked = true;
            users = List.copyOf(grant.users);
            grant.users.clear();
        }
        users.forEach(ManagerChannel::close);
        LOG.log(System.Logger.Level.INFO, "manager " + address + " revoked " + issued + " of " + session.remote
                + (users.isEmpty() ? "" : "; disconnected " + users.size() + " client(s) that used it"));
    }

    private void answer(ManagerChannel channel, ClientSession session, long id, long thread, String kind,
            String name, String method, byte[] argBytes) {
        byte status;
        byte[] body;
        try {
            Object[] args = decodeArgs(argBytes, session);
            Object result = ScopedValue.where(ClientSession.CALLER, new ClientSession.Caller(session, thread))
                    .call(() -> dispatch(kind, name, method, args));
            try {
                body = codec.encode(result);
                status = ManagerLayout.STATUS_VALUE;
            } catch (IOException | RuntimeException e) {
                body = RemoteFailure.encode(new NotSerializableException("the result of " + method + " on " + kind
                        + " '" + name + "' cannot be sent back: " + e), codec);
                status = ManagerLayout.STATUS_THROWN;
            }
        } catch (Refusal r) {
            status = ManagerLayout.STATUS_REFUSED;
            body = r.getMessage().getBytes(StandardCharsets.UTF_8);
        } catch (InvocationTargetException e) {
            status = ManagerLayout.STATUS_THROWN;
            body = RemoteFailure.encode(e.getCause(), codec);
        } catch (Throwable t) {
            status = ManagerLayout.STATUS_THROWN;
            body = RemoteFailure.encode(t, codec);
        }
        reply(channel, id, status, body);
    }

    /**
     * Blocking calls that would not block now: {@code take} on a non-empty queue, {@code lock} on a
     * free lock. Answering those here, with the non-blocking method they imply, saves a thread
     * and a hand-off per call; anything else (or any doubt) goes the normal way.
     */
    private static final Map<String, String> TRY_FIRST = Map.ofEntries(
            Map.entry("take()", "poll()"),
            Map.entry("put(java.lang.Object)", "offer(java.lang.Object)"),
            Map.entry("poll(long,java.util.concurrent.TimeUnit)", "poll()"),
            Map.entry("offer(java.lang.Object,long,java.util.concurrent.TimeUnit)", "offer(java.lang.Object)"),
            Map.entry("lock()", "tryLock()"),
            Map.entry("lockInterruptibly()", "tryLock()"),
            Map.entry("tryLock(long,java.util.concurrent.TimeUnit)", "tryLock()"),
            Map.entry("acquire()", "tryAcquire()"),
            Map.entry("tryAcquire(long,java.util.concurrent.TimeUnit)", "tryAcquire()"),
            Map.entry("await()", "isSet()"),
            Map.entry("await(long,java.util.concurrent.TimeUnit)", "isSet()"));

    private boolean tryWithoutBlocking(ManagerChannel channel, ClientSession session, long id, long thread,
            String kind, String name, String method, byte[] argBytes) {
        String tryKey = TRY_FIRST.get(method);
        Shared shared = tryKey == null ? null : objects.get(kind + "/" + name);
        if (shared == null) {
            return false;
        }
        Map<String, Method> faceMethods = methods(shared.face);
        Method attempt = faceMethods.get(tryKey);
        Method real = faceMethods.get(method);
        if (attempt == null || real == null || argBytes.length == 0 || argBytes[0] != ArgCodec.SIMPLE) {
            return false;
        }
        try {
            Object[] args = ArgCodec.decodeSimple(argBytes);
            Object[] tryArgs = java.util.Arrays.copyOf(args, attempt.getParameterCount());
            Object result = ScopedValue.where(ClientSession.CALLER, new ClientSession.Caller(session, thread))
                    .call(() -> attempt.invoke(shared.target, tryArgs));
            if (result == null || Boolean.FALSE.equals(result)) {
                return false;
            }
            Class<?> returns = real.getReturnType();
            Object answer = returns == void.class ? null : returns == boolean.class ? Boolean.TRUE : result;
            reply(channel, id, ManagerLayout.STATUS_VALUE, codec.encode(answer));
            return true;
        } catch (Exception e) {
            return false;  // let the normal path run the call and report whatever it throws
        }
    }

    private static void reply(ManagerChannel channel, long id, byte status, byte[] body) {
        try {
            var bytes = new java.io.ByteArrayOutputStream(body.length + 16);
            var out = new DataOutputStream(bytes);
            out.writeLong(id);
            out.writeByte(status);
            out.write(body);
            channel.send(ManagerLayout.REPLY, bytes.toByteArray());
        } catch (IOException e) {
            // the client is gone; its connection thread cleans up
        }
    }

    private Object[] decodeArgs(byte[] bytes, ClientSession session) throws Refusal, IOException {
        if (bytes.length == 0) {
            throw new IOException("no arguments");
        }
        if (bytes[0] == ArgCodec.SIMPLE) {
            return ArgCodec.decodeSimple(bytes);
        }
        if (bytes[0] != ArgCodec.JDK) {
            throw new IOException("unknown argument encoding " + bytes[0]);
        }
        String[] rejected = new String[1];
        try (var in = new FilteredInput(new ByteArrayInputStream(bytes, 1, bytes.length - 1))) {
            in.setObjectInputFilter(info -> {
                var status = filter.checkInput(info);
                if (status == java.io.ObjectInputFilter.Status.REJECTED && rejected[0] == null) {
                    rejected[0] = info.serialClass() != null ? info.serialClass().getName()
                            : "a graph past the size limits (depth " + info.depth() + ", references "
                                    + info.references() + ", array " + info.arrayLength() + ")";
                }
                return status;
            });
            return (Object[]) in.readObject();
        } catch (InvalidClassException e) {
            if (rejected[0] == null) {
                throw e;
            }
            String what = rejected[0];
            LOG.log(System.Logger.Level.WARNING, "manager " + address + " refused to deserialize " + what
                    + " from " + session.remote);
            int dot = what.lastIndexOf('.');
            throw new Refusal("the manager refused to deserialize " + what + ": it is not on the manager's allowlist "
                    + "(JDK value types and collections, registered types and declared packages); declare it when "
                    + "building the manager, e.g. Manager.builder().allowPackages(\""
                    + (dot > 0 ? what.substring(0, dot) : what) + "\")");
        } catch (ClassNotFoundException e) {
            throw new Refusal("the manager cannot find class " + e.getMessage()
                    + " on its class path; start it with the application's class path");
        } catch (ClassCastException e) {
            throw new IOException("malformed call arguments", e);
        }
    }

    private Object dispatch(String kindText, String name, String method, Object[] args) throws Exception {
        if (kindText.equals("$manager")) {
            if (method.equals("$ping")) {
                return null;
            }
            if (method.equals("$grant")) {
                return grant(ClientSession.caller().session());
            }
            if (method.equals("$revoke")) {
                ClientSession session = ClientSession.caller().session();
                if (session.via != null) {
                    throw new Refusal("a process that got its proxies by serialization cannot revoke their capability; "
                            + "the process that holds the manager's key can (Manager.revokeSerializedProxies())");
                }
                revokeIssued(session);
                return null;
            }
            if (method.equals("$register") && args.length == 2 && args[0] instanceof String face
                    && args[1] instanceof Supplier<?> factory) {
                Class<?> type;
                try {
                    type = Class.forName(face, false, loader());
                } catch (ClassNotFoundException e) {
                    throw new Refusal("the manager cannot find interface " + face + " on its class path");
                }
                register(name, type, factory);
                return null;
            }
            throw new Refusal("unknown manager operation " + method);
        }
        String objectKey = kindText + "/" + name;
        if (method.equals("$create")) {
            create(kindText, name, objectKey, args);
            return null;
        }
        Shared shared = objects.get(objectKey);
        if (shared == null) {
            throw new Refusal("this manager has no " + kindText.toLowerCase(java.util.Locale.ROOT) + " named '" + name
                    + "': it was never created here (was the manager restarted?)");
        }
        Object target = shared.target;
        switch (method) {
            case "$snapshot":
                if (target instanceof Map<?, ?> map) {
                    List<Map.Entry<?, ?>> entries = new ArrayList<>(map.size());
                    for (Map.Entry<?, ?> e : map.entrySet()) {
                        entries.add(new AbstractMap.SimpleImmutableEntry<>(e.getKey(), e.getValue()));
                    }
                    return entries;
                }
                return new ArrayList<>((Collection<?>) target);
            case "$drain":
                List<Object> drained = new ArrayList<>();
                @SuppressWarnings("unchecked")
                BlockingQueue<Object> queue = (BlockingQueue<Object>) target;
                queue.drainTo(drained, (Integer) args[0]);
                return drained;
            case "$toString":
                return String.valueOf(target);
            default:
                Method m = methods(shared.face).get(method);
                if (m == null) {
                    throw new Refusal(method + " is not a method of " + shared.face.getName()
                            + ": only the methods of a shared object's interface can be called");
                }
                return copyView(m.getReturnType(), m.invoke(target, args));
        }
    }

    private void create(String kindText, String name, String objectKey, Object[] args) throws Refusal {
        Class<?> face;
        Supplier<?> factory;
        if (kindText.startsWith("custom:")) {
            Registered registered = types.get(kindText.substring(7));
            if (registered == null) {
                throw new Refusal("no type '" + kindText.substring(7) + "' is registered on this manager; "
                        + "call Manager.register first");
            }
            face = registered.face;
            factory = registered.factory;
        } else {
            Kind kind;
            try {
                kind = Kind.valueOf(kindText);
            } catch (IllegalArgumentException e) {
                throw new Refusal("unknown kind " + kindText);
            }
            int parameter = args.length > 0 && args[0] instanceof Integer p ? p : 0;
            face = kind.face;
            factory = () -> kind.create(name, parameter);
        }
        Shared shared = objects.computeIfAbsent(objectKey, k -> new Shared(factory.get(), face));
        if (!face.isInstance(shared.target)) {
            throw new Refusal("the factory of '" + kindText + "' made a " + shared.target.getClass().getName()
                    + ", which does not implement " + face.getName());
        }
    }

    /** Views (keySet, entrySet, subList...) are copied: they cannot travel, and a copy is what a client can use. */
    private static Object copyView(Class<?> declared, Object result) {
        if (result == null || !declared.isInterface() || !declared.getPackageName().equals("java.util")) {
            return result;
        }
        if (result instanceof Map<?, ?> map) {
            return new LinkedHashMap<>(map);
        }
        if (result instanceof Set<?> set) {
            Set<Object> copy = new LinkedHashSet<>();
            for (Object element : set) {
                copy.add(element instanceof Map.Entry<?, ?> e
                        ? new AbstractMap.SimpleImmutableEntry<>(e.getKey(), e.getValue()) : element);
            }
            return copy;
        }
        if (result instanceof Collection<?> collection) {
            return new ArrayList<>(collection);
        }
        return result;
    }

    /**
     * @param face an interface
     * @return its public methods by {@code name(paramType,...)}
     */
    static Map<String, Method> methods(Class<?> face) {
        return METHODS.computeIfAbsent(face, f -> {
            Map<String, Method> byKey = new HashMap<>();
            for (Method m : f.getMethods()) {
                if (!java.lang.reflect.Modifier.isStatic(m.getModifiers())) {
                    byKey.putIfAbsent(key(m), m);
                }
            }
            return Map.copyOf(byKey);
        });
    }

    /**
     * @param m a method
     * @return how calls name it on the wire
     */
    public static String key(Method m) {
        var sb = new StringBuilder(m.getName()).append('(');
        Class<?>[] params = m.getParameterTypes();
        for (int i = 0; i < params.length; i++) {
            if (i > 0) {
                sb.append(',');
            }
            sb.append(params[i].getName());
        }
        return sb.append(')').toString();
    }

    private static ClassLoader loader() {
        ClassLoader context = Thread.currentThread().getContextClassLoader();
        return context != null ? context : ManagerServer.class.getClassLoader();
    }

    /** Resolves classes through the application class loader; the filter decides first. */
    private static final class FilteredInput extends ObjectInputStream {
        FilteredInput(InputStream in) throws IOException {
            super(in);
        }

        @Override
        protected Class<?> resolveClass(ObjectStreamClass desc) throws IOException, ClassNotFoundException {
            try {
                return Class.forName(desc.getName(), false, loader());
            } catch (ClassNotFoundException e) {
                return super.resolveClass(desc);
            }
        }
    }
}
