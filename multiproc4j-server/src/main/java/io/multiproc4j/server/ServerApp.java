package io.multiproc4j.server;

import java.nio.channels.ServerSocketChannel;

/**
 * A server application with an accept loop of its own, run in every worker JVM on the listener the
 * supervisor gives it. It needs a public no-argument constructor.
 *
 * {@snippet :
 * public final class EchoApp implements ServerApp {
 *     public void serve(ServerSocketChannel listener, WorkerContext ctx) throws Exception {
 *         while (!ctx.isStopping()) {
 *             SocketChannel c = listener.accept();   // throws ClosedChannelException once stopping
 *             // ... answer the request
 *             ctx.requestServed();
 *         }
 *     }
 * }
 * }
 *
 * <p>When the worker must stop accepting (reload, recycle, scale down, close), {@link
 * WorkerContext#isStopping()} becomes true and this worker's copy of the listener is closed, which
 * wakes a blocked {@code accept()} with an {@link java.nio.channels.AsynchronousCloseException}; an
 * exception thrown while stopping is not an error. Closing this copy never closes the port: other
 * workers (and the supervisor) hold the socket.
 *
 * <p>Keep the listener in blocking mode and accept without a timeout ({@code socket().setSoTimeout}
 * makes the JDK switch it to non-blocking for each accept): the socket's O_NONBLOCK flag is shared
 * by every worker that holds it, so one worker's switch would break the others' accepts. Hand the
 * accepted connections to other threads (virtual threads are cheap) instead. Returning from {@code serve} ends the worker, so an
 * app that hands connections to other threads waits for them before it returns.
 */
public interface ServerApp {
    /**
     * @param listener the listening socket, blocking
     * @param ctx      this worker's side of the supervisor
     * @throws Exception ends the worker; the supervisor logs it and starts another
     */
    void serve(ServerSocketChannel listener, WorkerContext ctx) throws Exception;
}
