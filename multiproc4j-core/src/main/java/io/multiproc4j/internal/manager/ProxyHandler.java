package io.multiproc4j.internal.manager;

import java.io.Serial;
import java.io.Serializable;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.time.Duration;
import java.util.Collection;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.ListIterator;
import java.util.Objects;
import java.util.Spliterator;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.locks.Lock;
import java.util.stream.BaseStream;

/**
 * Turns calls on a proxy into calls on the manager's object.
 *
 * <h2>What runs where</h2>
 * <ul>
 *   <li>A method whose arguments are all serializable runs on the manager, atomically as the real
 *       object makes it: {@code merge}/{@code compute} with a serializable lambda is one round trip.</li>
 *   <li>A default method given a lambda that is not serializable (the common {@code Integer::sum})
 *       runs here, through the interface's default body, which for {@code ConcurrentMap} is a
 *       compare-and-set loop over {@code get}/{@code putIfAbsent}/{@code replace}: still atomic.</li>
 *   <li>Iterators, spliterators and streams run here over a snapshot (one round trip);
 *       {@code keySet}/{@code values}/{@code entrySet}/{@code subList} return copies. Snapshots are
 *       read-only: write through the proxy's own methods.</li>
 *   <li>{@code equals}/{@code hashCode} compare which shared object a proxy names, not contents.</li>
 * </ul>
 *
 * <h2>Serialization</h2>
 * A proxy travels as {@link Serialized}: address, kind, name and a {@link ProxyCapability}, never
 * the key. A proxy made with the key asks its connection for the capability that connection hands
 * out (one round trip, the first time); a proxy that arrived by serialization passes on the
 * capability it came with. In the receiving JVM the first call uses a live connection of that JVM
 * to the same manager if there is one (a JVM that holds the key uses its own), and otherwise
 * connects with the capability; all proxies of one manager in a JVM share one connection.
 */
public final class ProxyHandler implements InvocationHandler, Serializable {
    @Serial
    private static final long serialVersionUID = 1L;

    private final String address;
    /** The key, in a JVM that was given it; {@code null} in one that got this proxy by serialization. */
    private final transient byte[] key;
    /** What this proxy was deserialized with; {@code null} for a proxy made with the key. */
    private final transient ProxyCapability capability;
    private final String kind;
    private final String name;
    private final long callTimeoutMillis;
    private final long connectTimeoutMillis;

    private ProxyHandler(String address, byte[] key, ProxyCapability capability, String kind, String name,
            long callTimeoutMillis, long connectTimeoutMillis) {
        this.address = address;
        this.key = key;
        this.capability = capability;
        this.kind = kind;
        this.name = name;
        this.callTimeoutMillis = callTimeoutMillis;
        this.connectTimeoutMillis = connectTimeoutMillis;
    }

    /**
     * The serialized form of a proxy's handler: everything but the key.
     *
     * @param address              the manager's address
     * @param kind                 the object's kind
     * @param name                 the object's name
     * @param capability           what the receiving JVM connects with when it has no connection
     * @param callTimeoutMillis    reply timeout for prompt calls
     * @param connectTimeoutMillis connect and handshake timeout
     */
    record Serialized(String address, String kind, String name, ProxyCapability capability, long callTimeoutMillis,
            long connectTimeoutMillis) implements Serializable {
        @Serial
        private Object readResolve() throws java.io.ObjectStreamException {
            if (address == null || kind == null || name == null || capability == null || callTimeoutMillis <= 0
                    || connectTimeoutMillis <= 0) {
                throw new java.io.InvalidObjectException("a serialized manager proxy must name its manager, kind, "
                        + "object and capability, with positive timeouts");
            }
            return new ProxyHandler(address, null, capability, kind, name, callTimeoutMillis, connectTimeoutMillis);
        }
    }

    /** A proxy travels as {@link Serialized}: the key stays in this JVM. */
    @Serial
    private Object writeReplace() throws java.io.ObjectStreamException {
        ProxyCapability travelling = capability;
        if (travelling == null) {
            try {
                travelling = connection().capability(Duration.ofMillis(callTimeoutMillis));
            } catch (io.multiproc4j.manager.ManagerUnavailableException e) {
                // the manager is gone: travel with a capability it never issued, so that the copy fails
                // where it is used as this proxy does here (unavailable; refused should the manager return)
                travelling = ProxyCapability.random();
            } catch (RuntimeException e) {
                var failure = new java.io.NotSerializableException("a proxy to " + label() + " cannot be serialized: "
                        + "the manager at " + address + " did not issue the capability it travels with (" + e.getMessage()
                        + ")");
                failure.initCause(e);
                throw failure;
            }
        }
        return new Serialized(address, kind, name, travelling, callTimeoutMillis, connectTimeoutMillis);
    }

    /** Handlers never travel in their own form (that would skip {@link Serialized}'s checks). */
    @Serial
    private void readObject(java.io.ObjectInputStream in) throws java.io.InvalidObjectException {
        throw new java.io.InvalidObjectException("a manager proxy's handler travels as ProxyHandler.Serialized");
    }

    /**
     * Creates the shared object on the manager if it does not exist, and returns a proxy to it.
     *
     * @param address        the manager's address
     * @param key            the key
     * @param kind           a {@link Kind} name or {@code custom:TYPE}
     * @param name           the object's name
     * @param face           the proxy's interface
     * @param parameter      capacity, permits or parties; 0 when none
     * @param callTimeout    reply timeout for prompt calls
     * @param connectTimeout connect and handshake timeout
     * @param <T>            the interface type
     * @return the proxy
     */
    public static <T> T create(String address, byte[] key, String kind, String name, Class<T> face, int parameter,
            Duration callTimeout, Duration connectTimeout) {
        var handler = new ProxyHandler(address, key.clone(), null, kind, name, callTimeout.toMillis(),
                connectTimeout.toMillis());
        try {
            handler.connection().call(kind, name, "$create", new Object[] {parameter},
                    ClientConnection.Wait.PROMPT, callTimeout);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
        return face.cast(Proxy.newProxyInstance(face.getClassLoader(), new Class<?>[] {face}, handler));
    }

    /**
     * Sends a manager-level operation (registration).
     *
     * @param address        the manager's address
     * @param key            the key
     * @param method         the operation
     * @param name           its subject
     * @param args           its arguments
     * @param callTimeout    reply timeout
     * @param connectTimeout connect timeout
     */
    public static void managerCall(String address, byte[] key, String method, String name, Object[] args,
            Duration callTimeout, Duration connectTimeout) {
        try {
            ClientConnection.of(address, key, connectTimeout)
                    .call("$manager", name, method, args, ClientConnection.Wait.PROMPT, callTimeout);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /**
     * Closes this JVM's connection to a manager.
     *
     * @param address its address
     * @param key     its key
     */
    public static void disconnect(String address, byte[] key) {
        ClientConnection.forget(address, key);
    }

    /**
     * Revokes the capability that this JVM's connection to a manager hands to the proxies it
     * serializes: processes connected with it are disconnected, copies of those bytes are refused,
     * and proxies serialized from now on carry a new one.
     *
     * @param address        the manager's address
     * @param key            its key
     * @param callTimeout    reply timeout
     * @param connectTimeout connect timeout
     */
    public static void revokeCapability(String address, byte[] key, Duration callTimeout, Duration connectTimeout) {
        ClientConnection.of(address, key, connectTimeout).revokeCapability(callTimeout);
    }

    private ClientConnection connection() {
        Duration timeout = Duration.ofMillis(connectTimeoutMillis);
        return key != null ? ClientConnection.of(address, key, timeout)
                : ClientConnection.of(address, capability, timeout);
    }

    @Override
    public Object invoke(Object proxy, Method method, Object[] args) throws Throwable {
        String methodName = method.getName();
        if (method.getDeclaringClass() == Object.class) {
            return switch (methodName) {
                case "equals" -> args[0] != null && Proxy.isProxyClass(args[0].getClass())
                        && Proxy.getInvocationHandler(args[0]) instanceof ProxyHandler other
                        && other.address.equals(address) && other.kind.equals(kind) && other.name.equals(name);
                case "hashCode" -> Objects.hash(address, kind, name);
                default -> describe();
            };
        }
        Class<?> returns = method.getReturnType();
        if (returns == Iterator.class || returns == ListIterator.class || returns == Spliterator.class
                || BaseStream.class.isAssignableFrom(returns)) {
            // over a snapshot; read-only so that nobody believes a remove() went to the manager
            List<?> snapshot = Collections.unmodifiableList((List<?>) remote("$snapshot", null, ClientConnection.Wait.PROMPT));
            return List.class.getMethod(methodName, method.getParameterTypes()).invoke(snapshot, args);
        }
        if (methodName.equals("forEach") && method.isDefault()) {
            return InvocationHandler.invokeDefault(proxy, method, args);
        }
        if (methodName.equals("drainTo") && proxy instanceof BlockingQueue<?>) {
            int max = args.length > 1 ? (Integer) args[1] : Integer.MAX_VALUE;
            if (args[0] == proxy) {
                throw new IllegalArgumentException("cannot drain a queue into itself");
            }
            @SuppressWarnings("unchecked")
            Collection<Object> target = (Collection<Object>) args[0];
            List<?> drained = (List<?>) remote("$drain", new Object[] {max}, ClientConnection.Wait.PROMPT);
            target.addAll(drained);
            return drained.size();
        }
        if (methodName.equals("newCondition") && proxy instanceof Lock) {
            throw new UnsupportedOperationException("a manager lock has no conditions: use Manager.condition(name), "
                    + "a lock with a condition");
        }
        if (args != null) {
            for (int i = 0; i < args.length; i++) {
                Object arg = args[i];
                if (arg != null && !(arg instanceof Serializable)) {
                    if (method.isDefault()) {
                        return InvocationHandler.invokeDefault(proxy, method, args);
                    }
                    throw new IllegalArgumentException("argument " + (i + 1) + " of " + methodName + " on "
                            + label() + " is a " + arg.getClass().getName() + ", which is not Serializable; "
                            + "pass a Serializable value, or a serializable lambda (e.g. io.multiproc4j.SerializableFunction) "
                            + "whose capturing class the manager allows");
                }
            }
        }
        ClientConnection.Wait wait = waitOf(method);
        if (wait == ClientConnection.Wait.INTERRUPTIBLE && Thread.interrupted()) {
            // as the JDK's blocking methods do: an interrupted caller does not start to wait
            throw new InterruptedException(methodName + " on " + label() + " called by an interrupted thread");
        }
        return remote(ManagerServer.key(method), args, wait);
    }

    private Object remote(String method, Object[] args, ClientConnection.Wait wait) throws Throwable {
        return connection().call(kind, name, method, args, wait, Duration.ofMillis(callTimeoutMillis));
    }

    /**
     * A method that declares InterruptedException may block: no reply timeout, interrupts are
     * forwarded. {@code Lock.lock()} blocks and cannot be interrupted.
     */
    private static ClientConnection.Wait waitOf(Method method) {
        for (Class<?> thrown : method.getExceptionTypes()) {
            if (thrown == InterruptedException.class) {
                return ClientConnection.Wait.INTERRUPTIBLE;
            }
        }
        if (method.getName().equals("lock") && method.getParameterCount() == 0
                && Lock.class.isAssignableFrom(method.getDeclaringClass())) {
            return ClientConnection.Wait.UNINTERRUPTIBLE;
        }
        return ClientConnection.Wait.PROMPT;
    }

    private String label() {
        String what = kind.startsWith("custom:") ? kind.substring(7) : kind.toLowerCase(java.util.Locale.ROOT);
        return what + " '" + name + "'";
    }

    /** The real object's toString, or where it was when the manager cannot be reached. */
    private String describe() {
        try {
            return label() + " " + remote("$toString", null, ClientConnection.Wait.PROMPT);
        } catch (Throwable t) {
            return label() + " at " + address + " (unavailable: " + t.getMessage() + ")";
        }
    }
}
