package io.multiproc4j.manager;

import java.net.SocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Configures a {@link Manager}: what its server accepts, how clients wait, how its JVM starts.
 *
 * <pre>{@code
 * try (Manager manager = Manager.builder()
 *         .allowPackages("com.example.model")   // classes clients may send, besides JDK value types
 *         .callTimeout(Duration.ofSeconds(10))
 *         .start()) { ... }
 * }</pre>
 */
public final class ManagerBuilder {
    final Set<String> packages = new LinkedHashSet<>();
    final Set<String> classes = new LinkedHashSet<>();
    final List<String> jvmOptions = new ArrayList<>();
    Duration callTimeout = Duration.ofSeconds(30);
    Duration connectTimeout = Duration.ofSeconds(10);
    int maxFrameBytes = 64 << 20;
    boolean tcp;
    boolean allowOtherUsers;

    ManagerBuilder() {}

    /**
     * Lets clients send instances of classes in these packages (exact packages: sub-packages must be
     * named too). Needed for your own value types and for serializable lambdas, which arrive as
     * {@code SerializedLambda} naming the class that wrote them. Server side only.
     *
     * @param packageNames package names, such as {@code "com.example.model"}
     * @return this builder
     */
    public ManagerBuilder allowPackages(String... packageNames) {
        for (String p : packageNames) {
            if (p.isBlank() || p.endsWith(".") || p.contains("*")) {
                throw new IllegalArgumentException("'" + p + "' is not a package name; give it as com.example.model");
            }
            packages.add(p);
        }
        return this;
    }

    /**
     * Lets clients send instances of these classes (and lambdas written in them).
     *
     * @param types the classes
     * @return this builder
     */
    public ManagerBuilder allowClasses(Class<?>... types) {
        for (Class<?> type : types) {
            classes.add(type.getName());
        }
        return this;
    }

    /**
     * @param timeout how long a call that should answer promptly waits for its reply before
     *                failing with {@link ManagerUnavailableException} (blocking calls such as
     *                {@code take} or {@code lock} wait as long as the manager lives); default 30 s
     * @return this builder
     */
    public ManagerBuilder callTimeout(Duration timeout) {
        this.callTimeout = positive(timeout, "callTimeout");
        return this;
    }

    /**
     * @param timeout how long connecting and authenticating may take; default 10 s
     * @return this builder
     */
    public ManagerBuilder connectTimeout(Duration timeout) {
        this.connectTimeout = positive(timeout, "connectTimeout");
        return this;
    }

    /**
     * @param bytes the largest message the server accepts after authentication; default 64 MiB
     * @return this builder
     */
    public ManagerBuilder maxFrameBytes(int bytes) {
        if (bytes < 4096) {
            throw new IllegalArgumentException("maxFrameBytes must be at least 4096, was " + bytes);
        }
        this.maxFrameBytes = bytes;
        return this;
    }

    /**
     * @param options options for the manager's JVM ({@link #start()} only), e.g. {@code -Xmx2g}
     * @return this builder
     */
    public ManagerBuilder jvmOptions(String... options) {
        jvmOptions.addAll(List.of(options));
        return this;
    }

    /**
     * Lets processes that run as another user connect to the manager's Unix-domain socket and try the
     * key. Without it such a process is refused before the handshake, whatever key it holds (the
     * kernel tells the manager who connected: {@code SO_PEERCRED}); either way the refusal and every
     * connection are logged with the peer's pid and uid. TCP clients are not identified this way:
     * they prove the key only. Server side only.
     *
     * @return this builder
     */
    public ManagerBuilder allowOtherUsers() {
        this.allowOtherUsers = true;
        return this;
    }

    /**
     * Makes {@link #start()} listen on an ephemeral loopback TCP port instead of a private
     * Unix-domain socket (for clients on this machine that cannot use Unix-domain sockets).
     *
     * @return this builder
     */
    public ManagerBuilder loopbackTcp() {
        this.tcp = true;
        return this;
    }

    /**
     * Starts a manager in its own JVM, as {@link Manager#start()} does.
     *
     * @return the manager
     * @throws ManagerUnavailableException when its JVM cannot start
     */
    public Manager start() {
        return Manager.start(this);
    }

    /**
     * Serves from this JVM, as {@link Manager#serve(SocketAddress, byte[])} does.
     *
     * @param address where to listen
     * @param key     the authentication key, at least 16 bytes
     * @return the manager
     */
    public Manager serve(SocketAddress address, byte[] key) {
        return Manager.serve(this, address, key);
    }

    /**
     * Connects to a running manager, as {@link Manager#connect(SocketAddress, byte[])} does.
     *
     * @param address where it listens
     * @param key     its key
     * @return a client
     */
    public Manager connect(SocketAddress address, byte[] key) {
        return Manager.connect(this, address, key);
    }

    private static Duration positive(Duration d, String what) {
        if (d == null || d.isNegative() || d.isZero()) {
            throw new IllegalArgumentException(what + " must be positive, was " + d);
        }
        return d;
    }
}
