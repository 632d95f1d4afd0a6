package io.multiproc4j.internal.transport;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.net.StandardSocketOptions;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Who is at the other end of an accepted Unix-domain socket, as the kernel recorded it when the
 * peer connected ({@code SO_PEERCRED}): its pid, effective uid and gid. A peer cannot lie about
 * these, unlike anything it sends.
 *
 * <h2>How they are read</h2>
 * The user and group come from the JDK's own {@code jdk.net.ExtendedSocketOptions.SO_PEERCRED}
 * (names, always available on Linux); the decision "same user as this process?" uses those alone.
 * The pid and numeric ids need {@code getsockopt(fd, SOL_SOCKET, SO_PEERCRED)} on the channel's
 * file descriptor, which the JDK does not expose without {@code --add-opens}. So the descriptor is
 * found through {@code /proc/self/fd}: under one lock, the channel's receive buffer is set to a
 * value no other socket of ours has, the process's socket descriptors are asked for theirs through
 * the FFM linker (as {@code internal.shm.Futex} calls {@code futex}), the one that matches and is a
 * Unix-domain socket whose peer has the same user is read, and the buffer size is put back. When
 * that finds no single match (not Linux x86-64/aarch64, no {@code /proc}, or a JVM without native
 * access), the pid is reported as unknown ({@code -1}) and the decision is unchanged.
 *
 * <p>Costs one directory listing and a system call per socket descriptor of the process, once per
 * accepted connection (a connection is a client JVM, not a request), and linking the downcall once
 * per JVM. {@link #names} reads only the names, for a caller that needs the pid only for a log line
 * it may not write (a pool's workers: their start is on the path to a new pool's first result).
 */
@SuppressWarnings("restricted") // getsockopt through the FFM linker; JVMs need --enable-native-access
public record PeerCredentials(long pid, int uid, int gid, String user, String group) {
    private static final int SOL_SOCKET = 1, SO_RCVBUF = 8, SO_PEERCRED = 17, SO_DOMAIN = 39, AF_UNIX = 1;
    /** Linked on first use only: {@link #names} and the class's other callers need no downcall. */
    private static final class Native {
        static final MethodHandle GETSOCKOPT = getsockopt();
    }
    private static final ReentrantLock MARKING = new ReentrantLock();
    /** Receive-buffer sizes used as markers: even values Linux stores doubled and below its usual cap. */
    private static final AtomicInteger MARKER = new AtomicInteger(5000);
    private static final String OWN_USER = ownUser();

    /**
     * @param channel an accepted (or connected) Unix-domain socket channel
     * @return the peer's credentials, or empty when the platform gives none (not a Unix socket)
     */
    public static Optional<PeerCredentials> of(SocketChannel channel) {
        return names(channel).map(names -> {
            int[] native3 = nativeCredentials(channel, names.user);
            return native3 == null ? names : new PeerCredentials(native3[0], native3[1], native3[2], names.user, names.group);
        });
    }

    /**
     * The peer's user and group names only, which {@link #sameUserAsThisProcess} needs: one
     * {@code getsockopt} through the JDK, no descriptor search. Pid, uid and gid are -1 (unknown).
     *
     * @param channel an accepted (or connected) Unix-domain socket channel
     * @return the peer's names, or empty when the platform gives none (not a Unix socket)
     */
    public static Optional<PeerCredentials> names(SocketChannel channel) {
        jdk.net.UnixDomainPrincipal principal;
        try {
            principal = channel.getOption(jdk.net.ExtendedSocketOptions.SO_PEERCRED);
        } catch (IOException | UnsupportedOperationException e) {
            return Optional.empty();
        }
        return Optional.of(new PeerCredentials(-1, -1, -1, principal.user().getName(), principal.group().getName()));
    }

    /** @return whether the peer runs as the same user as this process */
    public boolean sameUserAsThisProcess() {
        return OWN_USER != null && OWN_USER.equals(user);
    }

    /** @return the user this process runs as (the owner of {@code /proc/self}), or null when unknown */
    public static String thisProcessUser() {
        return OWN_USER;
    }

    /** @return e.g. {@code pid 1234, uid 1000 (alice)}, for log lines */
    public String describe() {
        return (pid >= 0 ? "pid " + pid : "pid unknown") + ", uid " + (uid >= 0 ? uid + " (" + user + ")" : user)
                + ", gid " + (gid >= 0 ? gid + " (" + group + ")" : group);
    }

    private static int[] nativeCredentials(SocketChannel channel, String user) {
        MethodHandle getsockopt = Native.GETSOCKOPT;
        if (getsockopt == null) {
            return null;
        }
        MARKING.lock();
        try (Arena arena = Arena.ofConfined()) {
            int original = channel.getOption(StandardSocketOptions.SO_RCVBUF);
            int marker = 2 * (5000 + Math.floorMod(MARKER.getAndAdd(8), 40_000));
            channel.setOption(StandardSocketOptions.SO_RCVBUF, marker);
            try {
                MemorySegment value = arena.allocate(12, 4);
                MemorySegment length = arena.allocate(ValueLayout.JAVA_INT);
                List<int[]> found = new ArrayList<>();
                int readBack = -1;
                for (int fd : socketDescriptors()) {
                    int rcvbuf = intOption(fd, SO_RCVBUF, value, length);
                    if (rcvbuf != 2 * marker && rcvbuf != marker || intOption(fd, SO_DOMAIN, value, length) != AF_UNIX) {
                        continue;
                    }
                    length.set(ValueLayout.JAVA_INT, 0, 12);
                    if ((int) getsockopt.invokeExact(fd, SOL_SOCKET, SO_PEERCRED, value, length) == 0) {
                        found.add(new int[] {value.get(ValueLayout.JAVA_INT, 0), value.get(ValueLayout.JAVA_INT, 4),
                                value.get(ValueLayout.JAVA_INT, 8)});
                        readBack = rcvbuf;
                    }
                }
                return found.size() == 1 && readBack > 0 ? found.getFirst() : null;
            } finally {
                channel.setOption(StandardSocketOptions.SO_RCVBUF, original);
            }
        } catch (Throwable t) {
            return null;  // best effort: the user and group above still decide
        } finally {
            MARKING.unlock();
        }
    }

    private static int intOption(int fd, int option, MemorySegment value, MemorySegment length) throws Throwable {
        length.set(ValueLayout.JAVA_INT, 0, 4);
        int rc = (int) Native.GETSOCKOPT.invokeExact(fd, SOL_SOCKET, option, value, length);
        return rc == 0 ? value.get(ValueLayout.JAVA_INT, 0) : Integer.MIN_VALUE;
    }

    private static List<Integer> socketDescriptors() throws IOException {
        List<Integer> fds = new ArrayList<>();
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(Path.of("/proc/self/fd"))) {
            for (Path entry : entries) {
                try {
                    if (Files.readSymbolicLink(entry).toString().startsWith("socket:")) {
                        fds.add(Integer.parseInt(entry.getFileName().toString()));
                    }
                } catch (IOException | NumberFormatException e) {
                    // closed meanwhile, or the directory's own descriptor: not a candidate
                }
            }
        }
        return fds;
    }

    private static MethodHandle getsockopt() {
        if (!System.getProperty("os.name", "").startsWith("Linux")) {
            return null;
        }
        try {
            Linker linker = Linker.nativeLinker();
            return linker.downcallHandle(linker.defaultLookup().find("getsockopt").orElseThrow(),
                    FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT,
                            ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.ADDRESS));
        } catch (RuntimeException e) {
            return null;  // no native access in this JVM: pids stay unknown
        }
    }

    private static String ownUser() {
        try {
            return Files.getOwner(Path.of("/proc/self")).getName();
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }
}
