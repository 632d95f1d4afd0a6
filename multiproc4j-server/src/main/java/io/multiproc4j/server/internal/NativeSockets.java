package io.multiproc4j.server.internal;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * The few socket system calls the JDK does not offer, called through the FFM linker: a TCP listener
 * whose file descriptor we know (so it can be passed on), and passing a descriptor to another process
 * over a Unix-domain socket with {@code SCM_RIGHTS}.
 *
 * <h2>Why native code at all</h2>
 * A {@link java.nio.channels.ServerSocketChannel} hides its descriptor, and the JDK's Unix-domain
 * channels cannot carry ancillary data. So the supervisor creates listeners here, keeps their
 * descriptors, and sends them to workers through a small native Unix-domain socket of its own
 * ({@link FdServer}). A worker receives one, moves it to descriptor 0 with {@code dup2} and wraps it
 * with {@link System#inheritedChannel()}, the JDK's public way to adopt a listening socket (the one
 * inetd uses).
 *
 * <p>Every descriptor is created with {@code SOCK_CLOEXEC}: a worker JVM spawned by the supervisor
 * must not inherit listeners by accident (the JDK closes them in the child anyway, but a user's own
 * native code might not).
 *
 * <p>Linux x86-64 only: the struct layouts and constants below are that ABI's.
 */
@SuppressWarnings("restricted") // native calls: the JVMs need --enable-native-access
public final class NativeSockets {
    static final int AF_UNIX = 1;
    static final int AF_INET = 2;
    static final int AF_INET6 = 10;
    static final int SOCK_STREAM = 1;
    static final int SOCK_CLOEXEC = 0x80000;
    static final int SOL_SOCKET = 1;
    static final int SO_REUSEADDR = 2;
    static final int SO_REUSEPORT = 15;
    static final int SO_PEERCRED = 17;
    static final int SCM_RIGHTS = 1;
    static final int SHUT_RDWR = 2;
    static final int POLLIN = 1;
    static final int IPPROTO_IPV6 = 41;
    static final int IPV6_V6ONLY = 26;
    static final int EINTR = 4;
    static final int EADDRINUSE = 98;
    static final int EADDRNOTAVAIL = 99;

    private static final Linker LINKER = Linker.nativeLinker();
    private static final MemoryLayout CAPTURE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CAPTURE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final ValueLayout.OfInt I = ValueLayout.JAVA_INT;
    private static final ValueLayout.OfLong L = ValueLayout.JAVA_LONG;
    private static final java.lang.foreign.AddressLayout A = ValueLayout.ADDRESS;

    private static final Downcall SOCKET = new Downcall("socket", FunctionDescriptor.of(I, I, I, I));
    private static final Downcall SETSOCKOPT = new Downcall("setsockopt", FunctionDescriptor.of(I, I, I, I, A, I));
    private static final Downcall BIND = new Downcall("bind", FunctionDescriptor.of(I, I, A, I));
    private static final Downcall LISTEN = new Downcall("listen", FunctionDescriptor.of(I, I, I));
    private static final Downcall GETSOCKOPT = new Downcall("getsockopt", FunctionDescriptor.of(I, I, I, I, A, A));
    private static final Downcall GETSOCKNAME = new Downcall("getsockname", FunctionDescriptor.of(I, I, A, A));
    private static final Downcall ACCEPT4 = new Downcall("accept4", FunctionDescriptor.of(I, I, A, A, I));
    private static final Downcall CONNECT = new Downcall("connect", FunctionDescriptor.of(I, I, A, I));
    private static final Downcall SENDMSG = new Downcall("sendmsg", FunctionDescriptor.of(L, I, A, I));
    private static final Downcall RECVMSG = new Downcall("recvmsg", FunctionDescriptor.of(L, I, A, I));
    private static final Downcall READ = new Downcall("read", FunctionDescriptor.of(L, I, A, L));
    private static final Downcall WRITE = new Downcall("write", FunctionDescriptor.of(L, I, A, L));
    private static final Downcall CLOSE = new Downcall("close", FunctionDescriptor.of(I, I));
    private static final Downcall DUP = new Downcall("dup", FunctionDescriptor.of(I, I));
    private static final Downcall DUP2 = new Downcall("dup2", FunctionDescriptor.of(I, I, I));
    private static final Downcall SHUTDOWN = new Downcall("shutdown", FunctionDescriptor.of(I, I, I));
    private static final Downcall POLL = new Downcall("poll", FunctionDescriptor.of(I, A, L, I));
    private static final Downcall STRERROR = new Downcall("strerror", FunctionDescriptor.of(A, I), false);

    private NativeSockets() {}

    /**
     * A C function's downcall handle, linked on its first call. Linking is what costs (each handle
     * generates code: all of them took a third of a worker's start, 250-700 ms), and a worker calls
     * only the few functions that fetch and adopt its listener, the supervisor the others.
     */
    private static final class Downcall {
        private final String name;
        private final FunctionDescriptor descriptor;
        private final boolean errno;
        private volatile MethodHandle handle;

        Downcall(String name, FunctionDescriptor descriptor) {
            this(name, descriptor, true);
        }

        Downcall(String name, FunctionDescriptor descriptor, boolean errno) {
            this.name = name;
            this.descriptor = descriptor;
            this.errno = errno;
        }

        MethodHandle get() {
            MethodHandle h = handle;
            if (h == null) {
                synchronized (this) {
                    h = handle;
                    if (h == null) {
                        MemorySegment address = LINKER.defaultLookup().find(name).orElseThrow();
                        h = errno ? LINKER.downcallHandle(address, descriptor, Linker.Option.captureCallState("errno"))
                                : LINKER.downcallHandle(address, descriptor);
                        handle = h;
                    }
                }
            }
            return h;
        }
    }

    /** @throws UnsupportedOperationException where the native layer cannot work (not Linux x86-64) */
    public static void ensureSupported() {
        String arch = System.getProperty("os.arch");
        if (!System.getProperty("os.name", "").startsWith("Linux") || !("amd64".equals(arch) || "x86_64".equals(arch))) {
            throw new UnsupportedOperationException("REUSE_PORT and SHARED_SOCKET need Linux x86-64 (this is "
                    + System.getProperty("os.name") + " " + arch + "); use PortSharing.ACCEPTOR");
        }
    }

    /** A failed system call, with its errno. */
    public static final class NativeException extends IOException {
        private static final long serialVersionUID = 1L;
        private final int errno;

        NativeException(String call, int errno) {
            super(call + ": " + strerror(errno) + " (errno " + errno + ")");
            this.errno = errno;
        }

        /** @return the errno */
        public int errno() {
            return errno;
        }
    }

    private static String strerror(int errno) {
        try {
            MemorySegment s = (MemorySegment) STRERROR.get().invokeExact(errno);
            return s.reinterpret(256).getString(0, StandardCharsets.UTF_8);
        } catch (Throwable t) {
            return "error";
        }
    }

    private static int errno(MemorySegment state) {
        return (int) ERRNO.get(state, 0L);
    }

    private static int check(String call, int rc, MemorySegment state) throws NativeException {
        if (rc < 0) {
            throw new NativeException(call, errno(state));
        }
        return rc;
    }

    /**
     * Creates a listening TCP socket.
     *
     * @param address   where to bind
     * @param reusePort whether to set {@code SO_REUSEPORT} (so that other sockets with it may bind the
     *                  same port, each with its own accept queue)
     * @param backlog   the accept queue's length; negative to bind only (a probe: nothing connects to it)
     * @return the descriptor
     * @throws NativeException when a call fails ({@link #EADDRINUSE}: the port is taken)
     */
    public static int listenTcp(InetSocketAddress address, boolean reusePort, int backlog) throws NativeException {
        InetAddress ip = address.getAddress();
        boolean v6 = ip instanceof Inet6Address;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURE);
            int fd = check("socket", (int) SOCKET.get().invokeExact(state, v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), state);
            try {
                MemorySegment one = arena.allocateFrom(I, 1);
                check("setsockopt(SO_REUSEADDR)", (int) SETSOCKOPT.get().invokeExact(state, fd, SOL_SOCKET, SO_REUSEADDR, one, 4), state);
                if (reusePort) {
                    check("setsockopt(SO_REUSEPORT)", (int) SETSOCKOPT.get().invokeExact(state, fd, SOL_SOCKET, SO_REUSEPORT, one, 4), state);
                }
                if (v6) {
                    check("setsockopt(IPV6_V6ONLY)", (int) SETSOCKOPT.get().invokeExact(state, fd, IPPROTO_IPV6, IPV6_V6ONLY, one, 4), state);
                }
                MemorySegment sa = sockaddr(arena, ip, address.getPort());
                check("bind(" + ip.getHostAddress() + ":" + address.getPort() + ")",
                        (int) BIND.get().invokeExact(state, fd, sa, (int) sa.byteSize()), state);
                if (backlog >= 0) {
                    check("listen", (int) LISTEN.get().invokeExact(state, fd, backlog), state);
                }
                return fd;
            } catch (NativeException e) {
                close(fd);
                throw e;
            }
        } catch (NativeException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    private static MemorySegment sockaddr(Arena arena, InetAddress ip, int port) {
        byte[] addr = ip.getAddress();
        MemorySegment sa = arena.allocate(ip instanceof Inet4Address ? 16 : 28);
        sa.set(ValueLayout.JAVA_SHORT, 0, (short) (ip instanceof Inet4Address ? AF_INET : AF_INET6));
        sa.set(ValueLayout.JAVA_BYTE, 2, (byte) (port >> 8));
        sa.set(ValueLayout.JAVA_BYTE, 3, (byte) port);
        MemorySegment.copy(MemorySegment.ofArray(addr), 0, sa, ip instanceof Inet4Address ? 4 : 8, addr.length);
        return sa;
    }

    /**
     * @param fd a bound socket
     * @return the port it is bound to
     * @throws NativeException when the call fails
     */
    public static int localPort(int fd) throws NativeException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURE);
            MemorySegment sa = arena.allocate(128);
            MemorySegment len = arena.allocateFrom(I, 128);
            check("getsockname", (int) GETSOCKNAME.get().invokeExact(state, fd, sa, len), state);
            return ((sa.get(ValueLayout.JAVA_BYTE, 2) & 0xff) << 8) | (sa.get(ValueLayout.JAVA_BYTE, 3) & 0xff);
        } catch (NativeException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /**
     * @param fd a connected Unix-domain socket
     * @return the pid of the process at the other end, as the kernel recorded it at connect
     *         ({@code SO_PEERCRED}): it cannot be forged by the peer
     * @throws NativeException when the call fails
     */
    public static long peerPid(int fd) throws NativeException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURE);
            MemorySegment ucred = arena.allocate(12, 4); // struct ucred { pid_t pid; uid_t uid; gid_t gid; }
            MemorySegment len = arena.allocateFrom(I, 12);
            check("getsockopt(SO_PEERCRED)", (int) GETSOCKOPT.get().invokeExact(state, fd, SOL_SOCKET, SO_PEERCRED, ucred, len), state);
            return ucred.get(I, 0);
        } catch (NativeException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    private static MemorySegment sockaddrUnix(Arena arena, Path path) {
        byte[] p = path.toString().getBytes(StandardCharsets.UTF_8);
        if (p.length >= 108) {
            throw new IllegalArgumentException("socket path too long for sockaddr_un: " + path);
        }
        MemorySegment sa = arena.allocate(110);
        sa.set(ValueLayout.JAVA_SHORT, 0, (short) AF_UNIX);
        MemorySegment.copy(MemorySegment.ofArray(p), 0, sa, 2, p.length);
        return sa;
    }

    /**
     * @param path where to bind a listening Unix-domain socket
     * @return its descriptor
     * @throws NativeException when a call fails
     */
    public static int listenUnix(Path path) throws NativeException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURE);
            int fd = check("socket(AF_UNIX)", (int) SOCKET.get().invokeExact(state, AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), state);
            try {
                MemorySegment sa = sockaddrUnix(arena, path);
                check("bind(" + path + ")", (int) BIND.get().invokeExact(state, fd, sa, 110), state);
                check("listen", (int) LISTEN.get().invokeExact(state, fd, 64), state);
                return fd;
            } catch (NativeException e) {
                close(fd);
                throw e;
            }
        } catch (NativeException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /**
     * @param path a listening Unix-domain socket
     * @return a connected descriptor
     * @throws NativeException when a call fails
     */
    public static int connectUnix(Path path) throws NativeException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURE);
            int fd = check("socket(AF_UNIX)", (int) SOCKET.get().invokeExact(state, AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), state);
            try {
                MemorySegment sa = sockaddrUnix(arena, path);
                check("connect(" + path + ")", (int) CONNECT.get().invokeExact(state, fd, sa, 110), state);
                return fd;
            } catch (NativeException e) {
                close(fd);
                throw e;
            }
        } catch (NativeException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /**
     * Blocks until a client connects. Retries on {@code EINTR}.
     *
     * @param fd a listening socket
     * @return the connection's descriptor
     * @throws NativeException when the listener was shut down or closed
     */
    public static int accept(int fd) throws NativeException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURE);
            while (true) {
                int rc = (int) ACCEPT4.get().invokeExact(state, fd, MemorySegment.NULL, MemorySegment.NULL, SOCK_CLOEXEC);
                if (rc >= 0) {
                    return rc;
                }
                if (errno(state) != EINTR) {
                    throw new NativeException("accept", errno(state));
                }
            }
        } catch (NativeException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /**
     * Sends one byte of data with a descriptor attached ({@code SCM_RIGHTS}); the receiver gets its
     * own descriptor for the same open socket.
     *
     * @param channel a connected Unix-domain socket
     * @param fd      the descriptor to pass, or -1 to send the byte alone
     * @param tag     the data byte
     * @throws NativeException when the call fails
     */
    public static void sendFd(int channel, int fd, byte tag) throws NativeException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURE);
            MemorySegment data = arena.allocateFrom(ValueLayout.JAVA_BYTE, tag);
            MemorySegment iov = arena.allocate(16, 8);
            iov.set(A, 0, data);
            iov.set(L, 8, 1L);
            MemorySegment msg = arena.allocate(56, 8);
            msg.set(A, 16, iov);
            msg.set(L, 24, 1L);
            if (fd >= 0) {
                MemorySegment control = arena.allocate(24, 8); // CMSG_SPACE(sizeof(int))
                control.set(L, 0, 20L);                        // CMSG_LEN(sizeof(int))
                control.set(I, 8, SOL_SOCKET);
                control.set(I, 12, SCM_RIGHTS);
                control.set(I, 16, fd);
                msg.set(A, 32, control);
                msg.set(L, 40, 24L);
            }
            long rc = (long) SENDMSG.get().invokeExact(state, channel, msg, 0x4000 /* MSG_NOSIGNAL */);
            if (rc < 0) {
                throw new NativeException("sendmsg", errno(state));
            }
        } catch (NativeException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /**
     * Receives what {@link #sendFd} sent.
     *
     * @param channel a connected Unix-domain socket
     * @return the received descriptor (-1 when none came) and the data byte
     * @throws NativeException when the call fails or the peer closed before sending
     */
    public static ReceivedFd receiveFd(int channel) throws NativeException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURE);
            MemorySegment data = arena.allocate(1);
            MemorySegment iov = arena.allocate(16, 8);
            iov.set(A, 0, data);
            iov.set(L, 8, 1L);
            MemorySegment control = arena.allocate(24, 8);
            MemorySegment msg = arena.allocate(56, 8);
            msg.set(A, 16, iov);
            msg.set(L, 24, 1L);
            msg.set(A, 32, control);
            msg.set(L, 40, 24L);
            long rc = (long) RECVMSG.get().invokeExact(state, channel, msg, 0x40000000 /* MSG_CMSG_CLOEXEC */);
            if (rc < 0) {
                throw new NativeException("recvmsg", errno(state));
            }
            if (rc == 0) {
                throw new NativeException("recvmsg (peer closed)", 104);
            }
            int fd = -1;
            long controlLen = msg.get(L, 40);
            if (controlLen >= 20 && control.get(I, 8) == SOL_SOCKET && control.get(I, 12) == SCM_RIGHTS) {
                fd = control.get(I, 16);
            }
            return new ReceivedFd(fd, data.get(ValueLayout.JAVA_BYTE, 0));
        } catch (NativeException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /**
     * @param fd  the received descriptor, or -1
     * @param tag the data byte that came with it
     */
    public record ReceivedFd(int fd, byte tag) {}

    /**
     * Writes all of {@code bytes}.
     *
     * @param fd    a descriptor
     * @param bytes what to write
     * @throws NativeException when the call fails
     */
    public static void writeAll(int fd, byte[] bytes) throws NativeException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURE);
            MemorySegment buf = arena.allocateFrom(ValueLayout.JAVA_BYTE, bytes);
            long off = 0;
            while (off < bytes.length) {
                long rc = (long) WRITE.get().invokeExact(state, fd, buf.asSlice(off), bytes.length - off);
                if (rc < 0) {
                    if (errno(state) == EINTR) {
                        continue;
                    }
                    throw new NativeException("write", errno(state));
                }
                off += rc;
            }
        } catch (NativeException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /**
     * Reads one line (up to {@code '\n'}, at most {@code max} bytes).
     *
     * @param fd  a descriptor
     * @param max the longest line accepted
     * @return the line without its end, or {@code null} at end of stream
     * @throws NativeException when the call fails
     */
    public static String readLine(int fd, int max) throws NativeException {
        return readLine(fd, max, Long.MAX_VALUE);
    }

    /**
     * Reads a line, giving up at a deadline: a peer that sends nothing cannot hold the reader.
     *
     * @param fd       a connected descriptor
     * @param max      the longest line accepted
     * @param timeoutMillis how long the whole line may take; {@code Long.MAX_VALUE} for no limit
     * @return the line without its newline, or {@code null} at EOF, past {@code max} or past the deadline
     * @throws NativeException when the read fails
     */
    public static String readLine(int fd, int max, long timeoutMillis) throws NativeException {
        long deadline = timeoutMillis == Long.MAX_VALUE ? Long.MAX_VALUE : System.nanoTime() + timeoutMillis * 1_000_000L;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURE);
            MemorySegment one = arena.allocate(1);
            var line = new java.io.ByteArrayOutputStream();
            while (line.size() < max) {
                if (deadline != Long.MAX_VALUE) {
                    long left = (deadline - System.nanoTime()) / 1_000_000L;
                    if (left <= 0 || !pollReadable(fd, (int) Math.min(left, Integer.MAX_VALUE))) {
                        if (System.nanoTime() - deadline >= 0) {
                            return null;
                        }
                        continue; // interrupted poll: try again until the deadline
                    }
                }
                long rc = (long) READ.get().invokeExact(state, fd, one, 1L);
                if (rc < 0) {
                    if (errno(state) == EINTR) {
                        continue;
                    }
                    throw new NativeException("read", errno(state));
                }
                if (rc == 0) {
                    return null;
                }
                byte b = one.get(ValueLayout.JAVA_BYTE, 0);
                if (b == '\n') {
                    return line.toString(StandardCharsets.UTF_8);
                }
                line.write(b);
            }
            return null;
        } catch (NativeException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /**
     * @param fd        a descriptor
     * @param timeoutMs how long to wait
     * @return whether it became readable (for a listener: a connection is queued)
     * @throws NativeException when the call fails
     */
    public static boolean pollReadable(int fd, int timeoutMs) throws NativeException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURE);
            MemorySegment pfd = arena.allocate(8, 4);
            pfd.set(I, 0, fd);
            pfd.set(ValueLayout.JAVA_SHORT, 4, (short) POLLIN);
            int rc = (int) POLL.get().invokeExact(state, pfd, 1L, timeoutMs);
            if (rc < 0) {
                if (errno(state) == EINTR) {
                    return false;
                }
                throw new NativeException("poll", errno(state));
            }
            return rc > 0 && (pfd.get(ValueLayout.JAVA_SHORT, 6) & POLLIN) != 0;
        } catch (NativeException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** @param fd a descriptor to close; errors are ignored (nothing useful can follow them) */
    public static void close(int fd) {
        if (fd < 0) {
            return;
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURE);
            int ignored = (int) CLOSE.get().invokeExact(state, fd);
        } catch (Throwable t) {
            // nothing to do
        }
    }

    /**
     * @param fd a socket to shut down both ways (wakes a thread blocked in {@code accept} on it)
     */
    public static void shutdown(int fd) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURE);
            int ignored = (int) SHUTDOWN.get().invokeExact(state, fd, SHUT_RDWR);
        } catch (Throwable t) {
            // nothing to do
        }
    }

    /**
     * @param fd a descriptor
     * @return a new descriptor for the same open file
     * @throws NativeException when the call fails
     */
    public static int dup(int fd) throws NativeException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURE);
            return check("dup", (int) DUP.get().invokeExact(state, fd), state);
        } catch (NativeException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /**
     * @param from the descriptor to copy
     * @param to   the descriptor number it gets (closed first if open)
     * @throws NativeException when the call fails
     */
    public static void dup2(int from, int to) throws NativeException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURE);
            check("dup2", (int) DUP2.get().invokeExact(state, from, to), state);
        } catch (NativeException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }
}
