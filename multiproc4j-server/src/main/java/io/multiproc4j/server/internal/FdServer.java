package io.multiproc4j.server.internal;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Hands listening sockets to workers: a native Unix-domain socket (the JDK's cannot carry
 * {@code SCM_RIGHTS}) in the supervisor's private directory.
 *
 * <pre>
 *  worker: connect ─► "name token\n" ─► supervisor: name, token and the peer's pid (SO_PEERCRED,
 *                                     from the kernel) must all be that worker's
 *                                  ◄─ one byte 'F' with the descriptor attached (or 'N': refused)
 * </pre>
 *
 * The directory is readable by this user only and the token is the worker's one-time secret (it
 * travels only in SETUP, on the control channel whose supervision key the worker proved) and the
 * kernel vouches for the peer's pid, so no other process gets a listener. One platform thread accepts and answers, one worker at a time (each
 * exchange is two small messages). {@link #close} shuts the native listener down, which wakes that
 * thread, then removes the socket file.
 */
public final class FdServer implements AutoCloseable {
    /** How long a worker may take to send its line (it sends it at once). */
    private static final long HANDSHAKE_MILLIS = 2_000;
    private final Path path;
    private final int fd;
    private final Thread thread;
    private volatile boolean closed;

    /**
     * @param path   where to bind
     * @param lookup given "name token", the descriptor to send, or -1 to refuse
     * @throws NativeSockets.NativeException when the socket cannot be bound
     */
    public FdServer(Path path, Lookup lookup) throws NativeSockets.NativeException {
        this.path = path;
        this.fd = NativeSockets.listenUnix(path);
        this.thread = Thread.ofPlatform().daemon().name("multiproc4j-server-fds").start(() -> loop(lookup));
    }

    /** @return the socket's path */
    public Path path() {
        return path;
    }

    /** Decides which listener a worker gets. */
    @FunctionalInterface
    public interface Lookup {
        /**
         * @param who  what the worker sent: its name and its one-time token
         * @param pid  the pid the kernel gave for it (SO_PEERCRED)
         * @return the descriptor to send, or -1 to refuse
         */
        int listenerFor(String who, long pid);
    }

    private void loop(Lookup lookup) {
        while (!closed) {
            int client;
            try {
                client = NativeSockets.accept(fd);
            } catch (NativeSockets.NativeException e) {
                return; // shut down by close()
            }
            try {
                String who = NativeSockets.readLine(client, 256, HANDSHAKE_MILLIS); // a silent peer cannot hold this thread
                int listener = who == null ? -1 : lookup.listenerFor(who, NativeSockets.peerPid(client));
                NativeSockets.sendFd(client, listener, (byte) (listener >= 0 ? 'F' : 'N'));
            } catch (NativeSockets.NativeException | RuntimeException e) {
                // the worker went away mid-exchange: it will fail its start and be reported
            } finally {
                NativeSockets.close(client);
            }
        }
    }

    /**
     * Fetches a listener (the worker side).
     *
     * @param path where the supervisor's FdServer listens
     * @param who  "name token"
     * @return the received descriptor
     * @throws NativeSockets.NativeException when the exchange fails or the supervisor refused
     */
    public static int fetch(Path path, String who) throws NativeSockets.NativeException {
        int c = NativeSockets.connectUnix(path);
        try {
            NativeSockets.writeAll(c, (who + "\n").getBytes(java.nio.charset.StandardCharsets.UTF_8));
            NativeSockets.ReceivedFd received = NativeSockets.receiveFd(c);
            if (received.fd() < 0) {
                throw new NativeSockets.NativeException("the supervisor refused to pass its listener to " + who, 1);
            }
            return received.fd();
        } finally {
            NativeSockets.close(c);
        }
    }

    @Override
    public void close() {
        closed = true;
        NativeSockets.shutdown(fd);
        try {
            thread.join(2000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        NativeSockets.close(fd);
        try {
            Files.deleteIfExists(path);
        } catch (java.io.IOException e) {
            // the directory goes with the supervisor anyway
        }
    }
}
