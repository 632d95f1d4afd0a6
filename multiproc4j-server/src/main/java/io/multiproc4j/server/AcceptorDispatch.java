package io.multiproc4j.server;

import io.multiproc4j.internal.transport.FrameChannel;
import io.multiproc4j.internal.transport.FrameChannel.PayloadWriter;
import io.multiproc4j.internal.transport.FrameType;
import io.multiproc4j.server.internal.Http;
import io.multiproc4j.server.internal.LineInput;
import io.multiproc4j.server.internal.Protocol;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The ACCEPTOR model's request path: the supervisor holds the clients' connections and the workers
 * only run the handler. {@link Supervisor} binds the acceptor's channel and runs the workers'
 * lifecycle (start, reload, scale, recycle, heartbeats, stop); this class accepts, reads each
 * request, hands it to a worker over the worker's control channel and writes the answer back.
 *
 * <h2>Data flow</h2>
 * <pre>
 *  accept (one platform thread) ─► a virtual thread per connection ({@link #serveClient}) reads each
 *           request ─► {@link #dispatch}: the READY worker with the fewest requests pending gets it
 *           (a new id and future in its {@link Requests#pending}) ─► its REQUEST frame joins the
 *           worker's {@link Requests#outbox} ─► {@link #writeOutbox}: one client thread writes every
 *           frame queued there as a BATCH frame, then one flush ─► the worker's RESULTS frame, read
 *           by its connection thread in Supervisor, completes the future ({@link #onAnswer}) ─► the
 *           client's thread writes the response; the connection stays open only if the worker
 *           (its keep-alive verdict), the client and the supervisor (not closing) all allow it
 * </pre>
 *
 * <h2>Concurrency</h2>
 * Choosing a worker takes the supervisor's lock (the worker list, their states, {@link Requests#sending}
 * and {@link #waitingRequests} are guarded by it); with no worker READY the request waits on the
 * supervisor's {@code changed} condition, up to the workers' start timeout, and counts as queued for
 * the autoscaling rule meanwhile. The rest of a request's path takes no lock: {@code pending} is a
 * concurrent map, {@code outbox} a concurrent queue, and the {@code writing} flag lets one client
 * thread write a worker's frames while the others only enqueue theirs. The lock is taken once more
 * per batch written, to count {@code sending} down.
 *
 * <h2>Crash handling</h2>
 * A worker's exit, as supervision reports it, fails every request in its {@code pending} map
 * ({@link #failRequests}): their clients get 503 and their connections close. A request whose frame
 * cannot be written is answered 503 the same way. The dead worker leaves the supervisor's list, so
 * the next requests go to the others (or wait for its replacement).
 *
 * <h2>Shutdown</h2>
 * {@link Supervisor#close()} closes the acceptor's channel (the accept loop ends), then
 * {@link #awaitClientsIdle}: until no request is pending or waiting for a worker (30 s at most),
 * then every client connection is closed; a client's thread also ends its connection after an
 * answer once the supervisor is closing. Only then are the workers told to stop, and a stopping
 * worker's SHUTDOWN is sent after the last request frame written to it ({@code sending} at 0).
 * {@link Supervisor#shutdownNow()} closes the clients at once ({@link #closeClients}).
 */
final class AcceptorDispatch {
    /** How long an ACCEPTOR client may stay silent (between requests or within one): the workers' keep-alive timeout. */
    private static final int CLIENT_IDLE_MILLIS = 5_000;

    private final Supervisor supervisor;
    private final ServerSocketChannel acceptor;
    private final ReentrantLock lock;          // the supervisor's
    private final Condition changed;           // the supervisor's: a worker became ready or went
    private final List<Supervisor.Worker> workers; // the supervisor's, guarded by its lock
    private final AtomicLong requestIds = new AtomicLong();
    private final Set<SocketChannel> clients = ConcurrentHashMap.newKeySet();
    private int waitingRequests; // requests waiting for a READY worker (guarded by the lock)

    /** The ACCEPTOR requests dispatched to one worker (every {@link Supervisor.Worker} has its own). */
    static final class Requests {
        final Map<Long, CompletableFuture<Reply>> pending = new ConcurrentHashMap<>();
        final Queue<Outgoing> outbox = new ConcurrentLinkedQueue<>(); // ACCEPTOR requests chosen for it, not yet written
        final AtomicBoolean writing = new AtomicBoolean();            // a client thread is writing the outbox
        int sending;          // ACCEPTOR requests being written to it (guarded by the lock)
    }

    AcceptorDispatch(Supervisor supervisor, ServerSocketChannel acceptor, ReentrantLock lock, Condition changed,
                     List<Supervisor.Worker> workers) {
        this.supervisor = supervisor;
        this.acceptor = acceptor;
        this.lock = lock;
        this.changed = changed;
        this.workers = workers;
    }

    void start() {
        Thread.ofPlatform().daemon().name("multiproc4j-server-acceptor").start(this::acceptLoop);
    }

    /** @return whether a request waits for a READY worker: the ACCEPTOR's "queued" for autoscaling */
    boolean requestsWaitingLocked() {
        return waitingRequests > 0;
    }

    private void acceptLoop() {
        while (true) {
            SocketChannel client;
            try {
                client = acceptor.accept();
            } catch (IOException e) {
                return; // closed
            }
            clients.add(client);
            Thread.ofVirtual().start(() -> serveClient(client));
        }
    }

    private void serveClient(SocketChannel client) {
        try (client) {
            client.socket().setTcpNoDelay(true);
            // as the workers do (their keep-alive timeout): a client silent this long, before or
            // within a request, is dropped, so that silent connections cannot pile up descriptors here
            client.socket().setSoTimeout(CLIENT_IDLE_MILLIS);
            String remote = String.valueOf(client.getRemoteAddress());
            InputStream in = new LineInput(client.socket().getInputStream(), 8192);
            OutputStream out = new BufferedOutputStream(client.socket().getOutputStream(), 8192);
            while (true) {
                Http.Request request;
                try {
                    request = Http.readRequest(in);
                } catch (IOException e) {
                    if (e instanceof Http.BadRequest bad) {  // the same status a worker answers with
                        out.write(Http.simpleResponse(bad.status(), e.getMessage()));
                        out.flush();
                    }
                    return;
                }
                if (request == null) {
                    return;
                }
                Reply reply = dispatch(request, remote);
                out.write(reply.response());
                out.flush();
                if (!reply.keep() || !request.keepAlive() || supervisor.isClosing()) {
                    return;
                }
            }
        } catch (IOException e) {
            // the client went away
        } finally {
            clients.remove(client);
        }
    }

    /**
     * A worker's answer: the response's bytes, and whether the connection may stay open after it
     * (the worker's own decision: false after {@code Connection: close}, or a handler that failed
     * mid-response, whose bytes then end short).
     */
    private record Reply(byte[] response, boolean keep) {
        static Reply failed(int status, String text) {
            return new Reply(Http.simpleResponse(status, text), false);
        }
    }

    /** A request frame waiting in a worker's outbox. */
    private record Outgoing(long id, byte[] frame) {}

    private Reply dispatch(Http.Request request, String remote) throws IOException {
        Supervisor.Worker chosen = null;
        long id = requestIds.incrementAndGet();
        var future = new CompletableFuture<Reply>();
        lock.lock();
        try {
            long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(Supervisor.START_TIMEOUT_MILLIS);
            waitingRequests++;
            try {
                while (chosen == null) {
                    for (Supervisor.Worker w : workers) {
                        if (w.state == WorkerInfo.State.READY
                                && (chosen == null || w.requests.pending.size() < chosen.requests.pending.size())) {
                            chosen = w;
                        }
                    }
                    if (chosen != null) {
                        break;
                    }
                    long left = deadline - System.nanoTime();
                    if (left <= 0 || supervisor.isClosed()) {
                        return Reply.failed(503, "no worker became available");
                    }
                    changed.awaitNanos(left);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return Reply.failed(503, "interrupted");
            } finally {
                waitingRequests--;
            }
            chosen.requests.pending.put(id, future);
            chosen.requests.sending++;
        } finally {
            lock.unlock();
        }
        var w = new PayloadWriter();
        w.writeByte(Protocol.REQUEST);
        w.writeLong(id);
        Http.encode(request, remote, w);
        chosen.requests.outbox.add(new Outgoing(id, w.toByteArray()));
        writeOutbox(chosen);
        try {
            return future.get();
        } catch (ExecutionException e) {
            return Reply.failed(503, e.getCause().getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Reply.failed(503, "interrupted");
        }
    }

    /**
     * Writes the worker's outbox, unless another client thread is writing it now (that one takes
     * our frame too): with many requests in flight, the frames that queued during one write go out
     * together, one system call for all of them instead of one each. Whoever clears the flag looks
     * at the queue again, so no frame is left behind. A request whose frame cannot be written is
     * answered 503 (the worker is gone). Each frame written counts down {@code sending}; the last
     * one of a stopping worker is followed by its SHUTDOWN.
     */
    private void writeOutbox(Supervisor.Worker worker) {
        Requests requests = worker.requests;
        while (!requests.outbox.isEmpty() && requests.writing.compareAndSet(false, true)) {
            List<Outgoing> batch = new ArrayList<>();
            IOException failure = null;
            try {
                Outgoing o;
                while ((o = requests.outbox.poll()) != null) {
                    batch.add(o);
                    worker.channel.sendBuffered(FrameType.BATCH, o.frame());
                }
                worker.channel.flush();
            } catch (IOException e) {
                failure = e;
            } finally {
                requests.writing.set(false);
            }
            if (failure != null) {
                for (Outgoing o : batch) {
                    CompletableFuture<Reply> f = requests.pending.remove(o.id());
                    if (f != null) {
                        f.complete(Reply.failed(503, worker + " is gone: " + failure.getMessage()));
                    }
                }
            }
            lock.lock();
            try {
                requests.sending -= batch.size();
                if (requests.sending == 0 && worker.state == WorkerInfo.State.STOPPING) {
                    supervisor.sendShutdownLocked(worker);
                }
            } finally {
                lock.unlock();
            }
        }
    }

    /** The request part of a worker's RESULTS frame (after its kind byte): completes that request. */
    static void onAnswer(Supervisor.Worker w, DataInputStream in) throws IOException {
        long id = in.readLong();
        boolean keep = in.readBoolean();
        byte[] response = FrameChannel.readBytes(in);
        CompletableFuture<Reply> f = w.requests.pending.remove(id);
        if (f != null) {
            f.complete(new Reply(response, keep));
        }
    }

    /** The worker exited: every request it held is answered 503 ({@link #dispatch} turns the failure into it). */
    static void failRequests(Supervisor.Worker w, String cause) {
        for (CompletableFuture<Reply> f : w.requests.pending.values()) {
            f.completeExceptionally(new IOException(w + " exited while handling this request: " + cause));
        }
        w.requests.pending.clear();
    }

    void awaitClientsIdle() {
        // In ACCEPTOR mode the supervisor holds the clients: answer what is in flight, then close.
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline) {
            boolean inFlight;
            lock.lock();
            try {
                inFlight = workers.stream().anyMatch(w -> !w.requests.pending.isEmpty()) || waitingRequests > 0;
            } finally {
                lock.unlock();
            }
            if (!inFlight) {
                break;
            }
            lock.lock();
            try {
                changed.await(10, TimeUnit.MILLISECONDS); // answers do not signal: re-check at a short period
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            } finally {
                lock.unlock();
            }
        }
        closeClients();
    }

    void closeClients() {
        for (SocketChannel c : clients) {
            Supervisor.closeQuietly(c);
        }
    }
}
