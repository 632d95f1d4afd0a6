package io.multiproc4j.internal.supervise;

/**
 * The socket family of the connection between a supervisor and its children (the lifeline, and the
 * data path of a pool's socket transport): {@value #PROPERTY} = {@code tcp} (the default) or
 * {@code unix}.
 *
 * <p>Why TCP loopback by default: the first Unix-domain socket of any JVM initializes the JDK's
 * {@code sun.nio.ch.UnixDomainSockets}, whose static {@code SecureRandom.getInstance("NativePRNGNonBlocking")}
 * brings up {@code Security}, the SUN provider, {@code KnownOIDs} and the reflective construction of
 * the SPI (method handles spun at run time): ~40–50 ms of CPU in every new worker, on the path to a
 * new pool's first result (docs/BENCHMARKS.md, start4 and start5). A loopback TCP socket needs none
 * of it.
 *
 * <p>What keeps TCP as safe as the private directory was (see {@link Supervisor}): the listener is bound
 * to 127.0.0.1 only, on a port the kernel picks; a child must prove its one-time 256-bit key, which
 * travels in its environment only (readable by its own user and root, never on a command line); a
 * peer that does not prove it is closed unanswered; and both ends compare the other end's socket
 * owner with their own in {@code /proc/net/tcp} ({@link LoopbackOwners}), the counterpart of the Unix
 * socket's {@code SO_PEERCRED}: the supervisor refuses another user's connection before reading a
 * byte, and a child refuses a listener of another user (one that took the port after its pool's JVM
 * died), so it never runs work sent by somebody else.
 */
public enum Lifeline {
    /** A loopback TCP socket: 127.0.0.1, a port the kernel picks. */
    TCP,
    /** A Unix-domain socket in a private directory (mode 700) of the temporary directory. */
    UNIX;

    /** The system property that chooses the family, read when a supervisor (a pool, a manager, a server) opens. */
    public static final String PROPERTY = "multiproc4j.lifeline";

    /**
     * @return the family {@value #PROPERTY} names, TCP when it is not set
     * @throws IllegalArgumentException when it names neither
     */
    public static Lifeline configured() {
        String value = System.getProperty(PROPERTY, "tcp");
        return switch (value) {
            case "tcp" -> TCP;
            case "unix" -> UNIX;
            default -> throw new IllegalArgumentException("-D" + PROPERTY + "=" + value + " is not a lifeline: use tcp "
                    + "(the default: a loopback TCP socket) or unix (a Unix-domain socket in a private directory)");
        };
    }
}
