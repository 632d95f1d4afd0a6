package io.multiproc4j.internal.supervise;

/**
 * The socket family of the connection between a supervisor and its children (the lifeline, and the
 * data path of a pool's socket transport): {@value #PROPERTY} = {@code unix} (the default) or
 * {@code tcp}.
 *
 * <p>Why not TCP by default, though it starts workers faster: measured on 2 cores (docs/bench-notes/start5.md),
 * a loopback TCP data path makes 100,000 tiny tasks cost ~35 % more CPU and run at 80k instead of
 * 121–128k tasks per second (twice the context switches), while it saves a new worker ~35 ms of its
 * ~200 ms of CPU to its first result. Choose {@code tcp} for pools that are created often and run
 * few tasks.
 *
 * <p>Why TCP starts faster: the first Unix-domain socket of any JVM initializes the JDK's
 * {@code sun.nio.ch.UnixDomainSockets}, whose static {@code SecureRandom.getInstance("NativePRNGNonBlocking")}
 * brings up {@code Security}, the SUN provider, {@code KnownOIDs} and the reflective construction of
 * the SPI (method handles spun at run time): ~40–50 ms of CPU in every new worker, on the path to a
 * new pool's first result (docs/BENCHMARKS.md, start4 and start5). A loopback TCP socket needs none
 * of it.
 *
 * <p>What keeps TCP sound (see {@link Supervisor} and {@link SupervisedChild}): the listener is bound
 * to 127.0.0.1 only, on a port the kernel picks; a child must prove its one-time 256-bit key, which
 * travels in its environment only (readable by its own user and root, never on a command line); a
 * peer that does not send it in its first frame (4 KiB at most, within 20 s) is closed unanswered;
 * and the supervisor answers a child that proved its key with a second one-time value from the
 * child's environment, which the child checks before it acts on anything, so a child that reached
 * another process on the port (one that took it after its pool's JVM died) runs nothing it sends.
 * What TCP gives up against the private directory: another local user can connect at all (and,
 * like any loopback service, hold a connection and a thread until the 20 s handshake deadline), and
 * is refused by the key instead of by the kernel; {@code unix} keeps other users out entirely.
 * Checking the peer's user through {@code /proc/net/tcp} (the counterpart of {@code SO_PEERCRED})
 * was measured and not kept: the kernel walks its whole socket table on each read, ~6 ms of CPU per
 * file on a 2-core test machine, on both sides of every new worker's path to its first result.
 */
public enum Lifeline {
    /** A loopback TCP socket: 127.0.0.1, a port the kernel picks. */
    TCP,
    /** A Unix-domain socket in a private directory (mode 700) of the temporary directory. */
    UNIX;

    /** The system property that chooses the family, read when a supervisor (a pool, a manager, a server) opens. */
    public static final String PROPERTY = "multiproc4j.lifeline";

    /**
     * @return the family {@value #PROPERTY} names, UNIX when it is not set
     * @throws IllegalArgumentException when it names neither
     */
    public static Lifeline configured() {
        String value = System.getProperty(PROPERTY, "unix");
        return switch (value) {
            case "tcp" -> TCP;
            case "unix" -> UNIX;
            default -> throw new IllegalArgumentException("-D" + PROPERTY + "=" + value + " is not a lifeline: use unix "
                    + "(the default: a Unix-domain socket in a private directory) or tcp (a loopback TCP socket: faster "
                    + "worker start, slower tiny tasks)");
        };
    }
}
