package io.multiproc4j.internal.manager;

import io.multiproc4j.internal.codec.RemoteFailure;
import io.multiproc4j.manager.ManagerUnavailableException;
import io.multiproc4j.spi.Codec;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.NotSerializableException;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A client's connection to one manager, shared by every proxy of that manager in this JVM.
 *
 * <pre>
 *  caller threads ──CALL(id)──► socket ──► manager
 *        ▲ wait on their own future         │
 *        └────── reader thread ◄──REPLY(id)─┘   (EOF: fail every pending future)
 * </pre>
 *
 * <h2>Concurrency</h2>
 * Many threads call at once: each registers a future under a fresh id, then writes its frame
 * (writes are serialized by the channel); the single reader thread completes futures by id.
 *
 * <h2>Crash handling</h2>
 * The manager's death is an event, not a timeout: the reader sees EOF at once (a Unix-domain socket
 * or a loopback TCP connection closes when its process dies, SIGKILL included) and fails every
 * pending call with {@link ManagerUnavailableException}, including calls that would block forever
 * ({@code take}, {@code lock}). Calls that should answer promptly also have a reply timeout, for a
 * manager on a machine that vanished without closing. A dead connection leaves the cache; the next
 * call reconnects once, and fails fast when nobody listens.
 *
 * <h2>Key or capability</h2>
 * A JVM that holds the key connects with it; a JVM that only got proxies by serialization connects
 * with the {@link ProxyCapability} they carry, unless it already has a live connection to that
 * manager (then every proxy of that manager uses it). A key connection asks the manager once for
 * the capability it hands to the proxies it serializes ({@link #capability}); a capability
 * connection hands on its own.
 */
final class ClientConnection {
    /** How a caller waits for its reply. */
    enum Wait {
        /** Answered promptly: a reply timeout applies. */
        PROMPT,
        /** May block: no timeout; an interrupt is forwarded to the manager (CANCEL). */
        INTERRUPTIBLE,
        /** May block, cannot be interrupted (Lock.lock): no timeout, the interrupt status is kept. */
        UNINTERRUPTIBLE
    }

    private static final Map<String, ClientConnection> CACHE = new ConcurrentHashMap<>();

    private final String address;
    private final ManagerChannel channel;
    private final Codec codec = Codec.standard();
    private final AtomicLong ids = new AtomicLong();
    private final Map<Long, CompletableFuture<ManagerChannel.Frame>> pending = new ConcurrentHashMap<>();
    private final int serverLimit;
    /** The capability this connection authenticated with; {@code null} when it proved the key. */
    private final ProxyCapability via;
    /** guarded by this: the capability the manager issued to this key connection, once asked */
    private ProxyCapability granted;
    private volatile ManagerUnavailableException failure;

    private ClientConnection(String address, ManagerChannel channel, int serverLimit, ProxyCapability via) {
        this.address = address;
        this.channel = channel;
        this.serverLimit = serverLimit;
        this.via = via;
    }

    /**
     * The live connection of this JVM to a manager, opening one if needed.
     *
     * @param address        the manager's address ({@link Addresses})
     * @param key            the key
     * @param connectTimeout for connecting and authenticating
     * @return the connection
     */
    static ClientConnection of(String address, byte[] key, Duration connectTimeout) {
        String cacheKey = address + "#" + fingerprint(key);
        ClientConnection live = CACHE.get(cacheKey);
        if (live != null && live.failure == null) {
            return live;
        }
        synchronized (CACHE) {
            live = CACHE.get(cacheKey);
            if (live != null && live.failure == null) {
                return live;
            }
            ClientConnection fresh = open(address, key, null, connectTimeout);
            CACHE.put(cacheKey, fresh);
            fresh.startReader(cacheKey);
            return fresh;
        }
    }

    /**
     * A live connection of this JVM to a manager, or a new one made with a capability.
     *
     * @param address        the manager's address
     * @param capability     what a deserialized proxy carried
     * @param connectTimeout for connecting and authenticating
     * @return the connection
     */
    static ClientConnection of(String address, ProxyCapability capability, Duration connectTimeout) {
        ClientConnection live = anyLive(address);
        if (live != null) {
            return live;
        }
        synchronized (CACHE) {
            live = anyLive(address);
            if (live != null) {
                return live;
            }
            String cacheKey = address + "#capability:" + capability.idHex();
            ClientConnection fresh = open(address, null, capability, connectTimeout);
            CACHE.put(cacheKey, fresh);
            fresh.startReader(cacheKey);
            return fresh;
        }
    }

    private static ClientConnection anyLive(String address) {
        for (ClientConnection c : CACHE.values()) {
            if (c.address.equals(address) && c.failure == null) {
                return c;
            }
        }
        return null;
    }

    /**
     * @param timeout reply timeout of the {@code $grant} call
     * @return the capability that proxies serialized through this connection carry
     */
    synchronized ProxyCapability capability(Duration timeout) {
        if (via != null) {
            return via;  // hand on what we connected with: a capability cannot mint others
        }
        if (granted == null) {
            granted = ProxyCapability.fromBytes((byte[]) manage("$grant", timeout));
        }
        return granted;
    }

    /** Revokes the capability this key connection hands out; the next serialization gets a new one. */
    void revokeCapability(Duration timeout) {
        manage("$revoke", timeout);
        synchronized (this) {
            granted = null;
        }
    }

    private Object manage(String operation, Duration timeout) {
        try {
            return call("$manager", "", operation, new Object[0], Wait.PROMPT, timeout);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(operation + " failed on the manager at " + address + ": " + t, t);
        }
    }

    /** Closes this JVM's connection to a manager, if any (its proxies reconnect on their next call). */
    static void forget(String address, byte[] key) {
        ClientConnection connection = CACHE.remove(address + "#" + fingerprint(key));
        if (connection != null) {
            connection.channel.close();
        }
    }

    private static ClientConnection open(String address, byte[] key, ProxyCapability capability, Duration timeout) {
        ManagerChannel channel;
        try {
            SocketChannel socket = Addresses.connect(Addresses.parse(address), timeout);
            try {
                channel = new ManagerChannel(socket);
            } catch (IOException e) {
                socket.close();
                throw e;
            }
        } catch (IOException e) {
            throw new ManagerUnavailableException("cannot connect to the manager at " + address + ": " + e
                    + " (is it running?)", e);
        }
        var done = new CountDownLatch(1);
        Thread.ofVirtual().start(() -> {
            try {
                if (!done.await(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                    channel.close();  // a peer that does not answer the handshake: fail, do not hang
                }
            } catch (InterruptedException e) {
                channel.close();
            }
        });
        int serverLimit;
        try {
            serverLimit = Handshake.client(channel, key, capability, address);
        } catch (IOException e) {
            channel.close();
            throw new ManagerUnavailableException("cannot authenticate with the manager at " + address + ": " + e
                    + " (no answer within " + timeout.toMillis() + " ms, or it closed the connection)", e);
        } catch (RuntimeException e) {
            channel.close();
            throw e;
        } finally {
            done.countDown();
        }
        channel.limit(Integer.MAX_VALUE - 16);
        return new ClientConnection(address, channel, serverLimit, capability);
    }

    private void startReader(String cacheKey) {
        Thread.ofPlatform().daemon().name("multiproc4j-manager-client").start(() -> {
            try {
                while (true) {
                    ManagerChannel.Frame frame = channel.receive();
                    long id = frame.reader().readLong();
                    CompletableFuture<ManagerChannel.Frame> waiter = pending.remove(id);
                    if (waiter != null) {
                        waiter.complete(frame);
                    }
                }
            } catch (IOException | RuntimeException e) {
                failure = new ManagerUnavailableException("the manager at " + address
                        + " closed the connection (it exited, was killed or was closed)", e);
                CACHE.remove(cacheKey, this);
                channel.close();
                pending.values().forEach(f -> f.completeExceptionally(failure));
                pending.clear();
            }
        });
    }

    /**
     * Calls a method of a shared object and returns its result or throws what it threw.
     *
     * @param kind    the object's kind
     * @param name    its name
     * @param method  the method, as {@link ManagerServer#key}
     * @param args    arguments, each serializable
     * @param wait    how to wait
     * @param timeout the reply timeout for {@link Wait#PROMPT}
     * @return the result
     * @throws Throwable what the object threw, or ManagerUnavailableException
     */
    Object call(String kind, String name, String method, Object[] args, Wait wait, Duration timeout) throws Throwable {
        byte[] argBytes = encodeArgs(kind, name, method, args);
        long id = ids.incrementAndGet();
        var reply = new CompletableFuture<ManagerChannel.Frame>();
        pending.put(id, reply);
        ManagerUnavailableException dead = failure;
        if (dead != null) {
            pending.remove(id);
            throw dead;
        }
        try {
            var bytes = new ByteArrayOutputStream(argBytes.length + 64);
            var out = new DataOutputStream(bytes);
            out.writeLong(id);
            out.writeLong(Thread.currentThread().threadId());
            out.writeUTF(kind);
            out.writeUTF(name);
            out.writeUTF(method);
            out.writeBoolean(wait != Wait.PROMPT);
            out.writeInt(argBytes.length);
            out.write(argBytes);
            if (bytes.size() > serverLimit) {
                pending.remove(id);
                throw new IllegalArgumentException("the arguments of " + method + " take " + bytes.size()
                        + " bytes, more than the manager accepts (" + serverLimit + "); send smaller values or "
                        + "raise Manager.builder().maxFrameBytes(...) where the manager is started");
            }
            channel.send(ManagerLayout.CALL, bytes.toByteArray());
        } catch (IOException e) {
            pending.remove(id);
            throw new ManagerUnavailableException("cannot send a call to the manager at " + address + ": " + e, e);
        }
        boolean[] cancelled = new boolean[1];
        ManagerChannel.Frame frame = await(id, reply, wait, timeout, method, cancelled);
        DataInputStream in = frame.reader();
        in.readLong();
        byte status = in.readByte();
        if (cancelled[0] && status == ManagerLayout.STATUS_VALUE) {
            // the call completed before the manager saw the cancel: keep the result, and the interrupt
            Thread.currentThread().interrupt();
        }
        byte[] body = in.readAllBytes();
        return switch (status) {
            case ManagerLayout.STATUS_VALUE -> codec.decode(body);
            case ManagerLayout.STATUS_THROWN -> throw RemoteFailure.decode(body, codec);
            default -> throw new IllegalArgumentException(new String(body, StandardCharsets.UTF_8));
        };
    }

    private ManagerChannel.Frame await(long id, CompletableFuture<ManagerChannel.Frame> reply, Wait wait,
            Duration timeout, String method, boolean[] cancelledOut) throws Throwable {
        boolean interrupted = false;
        boolean cancelled = false;
        try {
            while (true) {
                try {
                    if (wait == Wait.PROMPT) {
                        return reply.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
                    }
                    return reply.get();
                } catch (InterruptedException e) {
                    interrupted = true;
                    if (wait == Wait.INTERRUPTIBLE && !cancelled) {
                        // the server interrupts the call; its reply (InterruptedException, or success when it
                        // won the race) still comes, so the caller learns whether it got the lock or item
                        cancelled = true;
                        cancelledOut[0] = true;
                        cancel(id);
                    }
                } catch (TimeoutException e) {
                    pending.remove(id);
                    throw new ManagerUnavailableException("the manager at " + address + " did not answer " + method
                            + " within " + timeout.toMillis() + " ms", e);
                } catch (ExecutionException e) {
                    throw e.getCause();
                }
            }
        } finally {
            if (interrupted && !(wait == Wait.INTERRUPTIBLE && cancelled)) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private void cancel(long id) {
        try {
            var bytes = new ByteArrayOutputStream(8);
            new DataOutputStream(bytes).writeLong(id);
            channel.send(ManagerLayout.CANCEL, bytes.toByteArray());
        } catch (IOException e) {
            // the reader sees the same broken connection and fails the call
        }
    }

    private static byte[] encodeArgs(String kind, String name, String method, Object[] args) {
        try {
            return ArgCodec.encode(args);
        } catch (NotSerializableException e) {
            throw new IllegalArgumentException("an argument of " + method + " on " + kind.toLowerCase(java.util.Locale.ROOT)
                    + " '" + name + "' is not serializable (" + e.getMessage() + "); values sent to a manager must be "
                    + "Serializable, and lambdas must be serializable ones (e.g. SerializableFunction)", e);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot serialize the arguments of " + method + ": " + e, e);
        }
    }

    private static String fingerprint(byte[] key) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(key));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
