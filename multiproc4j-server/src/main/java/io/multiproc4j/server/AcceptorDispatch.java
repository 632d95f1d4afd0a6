package io.multiproc4j.server;

import io.multiproc4j.internal.transport.FrameChannel;
import io.multiproc4j.internal.transport.FrameChannel.PayloadWriter;
import io.multiproc4j.internal.transport.FrameType;
import io.multiproc4j.server.internal.Http;
import io.multiproc4j.server.internal.LineInput;
import io.multiproc4j.server.internal.Protocol;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.CancelledKeyException;
import java.nio.channels.ClosedSelectorException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
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
 *  one platform thread, the event loop ({@link #loop}), over a selector: accepts; reads what each
 *           client sent into its buffer and parses a request as soon as it is whole ({@link Client#process})
 *           ─► {@link #dispatch}: the READY worker with the fewest requests pending gets it (a new id
 *           in its {@link Requests#pending}) ─► its REQUEST frame goes into the worker's channel
 *           buffer; at the end of the loop's round every worker written to is flushed once
 *           ({@link #flushWorkers}): one write for all the frames of that round
 *  the worker's RESULTS frame, read by its connection thread in Supervisor ({@link #onAnswer}) ─►
 *           that thread writes the response to the client's non-blocking socket itself
 *           ({@link Client#answer}); what the socket does not take at once, and a request the
 *           client sent meanwhile (pipelined), are handed back to the loop; the connection stays
 *           open only if the worker (its keep-alive verdict), the client and the supervisor (not
 *           closing) all allow it
 * </pre>
 * Why this shape: a request costs the supervisor one read and one write of the client's socket, a
 * share of the loop's wait and of one write and one read of the worker's channel, and no thread
 * hand-off. A virtual thread per connection costs a park and an unpark per request, a poller
 * registration per read, and its writes switch the control socket to non-blocking for good (the
 * JDK does that for a virtual thread), so the reader's blocking read becomes read, poll, read. Here
 * only platform threads touch the control sockets, which stay blocking.
 *
 * <h2>Client state</h2>
 * <pre>
 *  READING (no request in flight; bytes buffered until a request is whole)
 *     ─► IN_FLIGHT (dispatched, or waiting for a READY worker; what the client sends meanwhile is
 *        read ahead up to {@value #READ_AHEAD} bytes, then its reads pause)
 *     ─► answered: written whole ─► READING again (the loop parses what was read ahead), or closed
 *                  written in part ─► WRITING (the loop writes the rest when the socket is writable)
 *                                     ─► READING, or closed
 *  any state ─► closed (client gone, bad request answered, silent {@value #CLIENT_IDLE_MILLIS} ms while
 *               READING, supervisor closing)
 * </pre>
 *
 * <h2>Concurrency</h2>
 * The loop owns the selector, each client's read buffer and interest set, the requests waiting for a
 * worker, and the frames written but not yet flushed. A client's answer state ({@code inFlight},
 * the unwritten rest, closed) is guarded by the client's monitor: the loop and the thread answering
 * (a worker's connection thread, or exit handling) both take it. Lock order: the supervisor's lock,
 * then a client's; the loop never holds a client's while it takes the supervisor's. Choosing a
 * worker takes the supervisor's lock (the worker list, their states, {@link Requests#sending} and
 * {@link #waitingRequests} are guarded by it), once per request, and once per worker flushed. The
 * loop never blocks on a client; a write to a worker's channel may block while that worker's socket
 * buffer is full, and the requests go to the worker with the fewest pending, so only a stalled
 * worker holding hundreds of kilobytes of requests, with no other worker READY, can make it wait
 * (until workerTimeout kills that worker).
 *
 * <h2>Crash handling</h2>
 * A worker's exit, as supervision reports it, answers every request in its {@code pending} map 503
 * ({@link #failRequests}) and closes those connections. A request whose frame cannot be written is
 * answered 503 the same way. The dead worker leaves the supervisor's list, so the next requests go
 * to the others (or wait for its replacement, up to the workers' start timeout).
 *
 * <h2>Shutdown</h2>
 * {@link Supervisor#close()} closes the acceptor's channel (the loop stops accepting), then
 * {@link #awaitClientsIdle}: until no request is pending or waiting for a worker (30 s at most),
 * then every client connection is closed and the loop ends; an answer while the supervisor is
 * closing also ends its connection. Only then are the workers told to stop, and a stopping worker's
 * SHUTDOWN is sent after the last request frame written to it ({@code sending} at 0).
 * {@link Supervisor#shutdownNow()} closes the clients at once ({@link #closeClients}).
 */
final class AcceptorDispatch {
    /** How long an ACCEPTOR client may stay silent (between requests or within one): the workers' keep-alive timeout. */
    private static final int CLIENT_IDLE_MILLIS = 5_000;
    /** What one read of a client's socket takes at most. */
    private static final int READ_BUFFER = 64 * 1024;
    /** What a client with a request in flight may send ahead (pipelined requests) before its reads pause. */
    private static final int READ_AHEAD = 64 * 1024;
    /** How often the loop looks for idle clients (and, after a failed accept, accepts again). */
    private static final long SWEEP_MILLIS = 500;
    /** How often the loop tries again the requests waiting for a READY worker. */
    private static final long WAITING_RETRY_MILLIS = 10;

    private final Supervisor supervisor;
    private final ServerSocketChannel acceptor;
    private final ReentrantLock lock;          // the supervisor's
    private final Condition changed;           // the supervisor's: a worker became ready or went
    private final List<Supervisor.Worker> workers; // the supervisor's, guarded by its lock
    private final Selector selector;
    private final AtomicLong requestIds = new AtomicLong();
    private final Set<Client> clients = ConcurrentHashMap.newKeySet();
    private final Queue<Client> handedBack = new ConcurrentLinkedQueue<>(); // answered clients the loop must look at
    private volatile boolean stopped;
    private int waitingRequests; // requests waiting for a READY worker (guarded by the lock)
    // the loop's own:
    private final ByteBuffer readBuffer = ByteBuffer.allocate(READ_BUFFER);
    private final ArrayDeque<Waiting> waiting = new ArrayDeque<>();
    private final List<Supervisor.Worker> written = new ArrayList<>(); // workers with frames not flushed yet
    private SelectionKey acceptKey;
    private boolean acceptPaused;
    private volatile Thread loopThread;

    /** The ACCEPTOR requests dispatched to one worker (every {@link Supervisor.Worker} has its own). */
    static final class Requests {
        final Map<Long, Client> pending = new ConcurrentHashMap<>();
        int sending;          // requests chosen for it whose frames are not flushed yet (guarded by the lock)
        // the loop's own: the ids whose frames are in the channel's buffer, and a failed buffered write
        private final List<Long> unflushed = new ArrayList<>();
        private IOException writeFailure;
    }

    /** A request waiting for a READY worker. */
    private record Waiting(Client client, Http.Request request, long deadlineNanos) {}

    AcceptorDispatch(Supervisor supervisor, ServerSocketChannel acceptor, ReentrantLock lock, Condition changed,
                     List<Supervisor.Worker> workers) throws IOException {
        this.supervisor = supervisor;
        this.acceptor = acceptor;
        this.lock = lock;
        this.changed = changed;
        this.workers = workers;
        this.selector = Selector.open();
    }

    void start() throws IOException {
        acceptor.configureBlocking(false);
        acceptKey = acceptor.register(selector, SelectionKey.OP_ACCEPT);
        loopThread = Thread.ofPlatform().daemon().name("multiproc4j-server-acceptor").start(this::loop);
    }

    /** @return whether a request waits for a READY worker: the ACCEPTOR's "queued" for autoscaling */
    boolean requestsWaitingLocked() {
        return waitingRequests > 0;
    }

    // ---------------------------------------------------------------- the loop

    private void loop() {
        long nextSweep = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(SWEEP_MILLIS);
        try {
            while (!stopped) {
                selector.select(this::onSelected, waiting.isEmpty() ? SWEEP_MILLIS : WAITING_RETRY_MILLIS);
                Client c;
                while ((c = handedBack.poll()) != null) {
                    try {
                        c.resume();
                    } catch (RuntimeException e) {
                        c.close(); // a client's trouble (a header the JDK's Headers refuses, say) ends that client only
                    }
                }
                if (!waiting.isEmpty()) {
                    dispatchWaiting();
                }
                flushWorkers();
                long now = System.nanoTime();
                if (now - nextSweep >= 0) {
                    sweep(now);
                    nextSweep = now + TimeUnit.MILLISECONDS.toNanos(SWEEP_MILLIS);
                }
            }
        } catch (IOException | ClosedSelectorException e) {
            // the selector failed: nothing more can be served
        } finally {
            stopped = true;
            closeClients();
            Supervisor.closeQuietly(selector);
        }
    }

    private void onSelected(SelectionKey key) {
        try {
            if (key == acceptKey) {
                acceptAll();
                return;
            }
            Client c = (Client) key.attachment();
            try {
                if (key.isWritable()) {
                    c.writeRest();
                }
                if (key.isValid() && key.isReadable()) {
                    c.onReadable();
                }
            } catch (CancelledKeyException e) {
                c.close(); // closed by another thread meanwhile
            } catch (IOException | RuntimeException e) {
                c.close(); // a client's trouble ends that client only
            }
        } catch (CancelledKeyException e) {
            // the acceptor closed: the supervisor is stopping
        }
    }

    private void acceptAll() {
        while (true) {
            SocketChannel channel;
            try {
                channel = acceptor.accept();
            } catch (IOException e) {
                if (acceptor.isOpen()) {
                    // out of descriptors, say: level-triggered, it would fire again at once; try again at the next sweep
                    acceptKey.interestOps(0);
                    acceptPaused = true;
                }
                return;
            }
            if (channel == null) {
                return;
            }
            try {
                channel.configureBlocking(false);
                channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
                var c = new Client(channel, String.valueOf(channel.getRemoteAddress()));
                clients.add(c);
                c.key = channel.register(selector, SelectionKey.OP_READ, c);
            } catch (IOException e) {
                Supervisor.closeQuietly(channel);
            }
        }
    }

    /** Closes the clients silent for {@value #CLIENT_IDLE_MILLIS} ms with no request in flight. */
    private void sweep(long now) {
        long idle = TimeUnit.MILLISECONDS.toNanos(CLIENT_IDLE_MILLIS);
        for (Client c : clients) {
            if (now - c.lastActiveNanos > idle) {
                c.closeIfIdle();
            }
        }
        if (acceptPaused && acceptKey.isValid()) {
            acceptPaused = false;
            try {
                acceptKey.interestOps(SelectionKey.OP_ACCEPT);
            } catch (CancelledKeyException e) {
                // the acceptor closed just now: the supervisor is stopping
            }
        }
    }

    // ---------------------------------------------------------------- dispatch

    /** The loop: sends a whole request to the least busy READY worker, or queues it until one is READY. */
    private void dispatch(Client c, Http.Request request) {
        long id = requestIds.incrementAndGet();
        Supervisor.Worker chosen;
        lock.lock();
        try {
            chosen = chooseLocked();
            if (chosen == null) {
                waitingRequests++;
                waiting.add(new Waiting(c, request,
                        System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(Supervisor.START_TIMEOUT_MILLIS)));
                return;
            }
            chosen.requests.pending.put(id, c);
            chosen.requests.sending++;
        } finally {
            lock.unlock();
        }
        write(chosen, id, c, request);
    }

    /** @return the READY worker with the fewest requests pending, or null */
    private Supervisor.Worker chooseLocked() {
        Supervisor.Worker chosen = null;
        for (Supervisor.Worker w : workers) {
            if (w.state == WorkerInfo.State.READY
                    && (chosen == null || w.requests.pending.size() < chosen.requests.pending.size())) {
                chosen = w;
            }
        }
        return chosen;
    }

    /** The loop: the requests waiting for a READY worker, in order; 503 for those waiting past the start timeout. */
    private void dispatchWaiting() {
        record Chosen(Supervisor.Worker worker, long id, Waiting waiting) {}
        List<Chosen> send = new ArrayList<>();
        List<Waiting> failed = new ArrayList<>();
        lock.lock();
        try {
            long now = System.nanoTime();
            while (!waiting.isEmpty()) {
                Waiting next = waiting.peek();
                Supervisor.Worker w = chooseLocked();
                if (w == null) {
                    if (now - next.deadlineNanos() < 0 && !supervisor.isClosed()) {
                        break; // still in time: the rest waits behind it, in order
                    }
                    failed.add(waiting.poll());
                    waitingRequests--;
                    continue;
                }
                waiting.poll();
                waitingRequests--;
                long id = requestIds.incrementAndGet();
                w.requests.pending.put(id, next.client());
                w.requests.sending++;
                send.add(new Chosen(w, id, next));
            }
        } finally {
            lock.unlock();
        }
        for (Chosen c : send) {
            write(c.worker(), c.id(), c.waiting().client(), c.waiting().request());
        }
        for (Waiting f : failed) {
            f.client().answer(Http.simpleResponse(503, "no worker became available"), false);
        }
    }

    /** The loop: puts a request's frame into the worker's channel buffer; {@link #flushWorkers} sends it. */
    private void write(Supervisor.Worker w, long id, Client c, Http.Request request) {
        Requests r = w.requests;
        if (r.unflushed.isEmpty()) {
            written.add(w);
        }
        r.unflushed.add(id);
        if (r.writeFailure != null) {
            return; // this round's writes to it failed already: 503 at the flush
        }
        try {
            var p = new PayloadWriter();
            p.writeByte(Protocol.REQUEST);
            p.writeLong(id);
            Http.encode(request, c.remote, p);
            w.channel.sendBuffered(FrameType.BATCH, p.toByteArray());
        } catch (IOException e) {
            r.writeFailure = e;
        }
    }

    /**
     * The loop, at the end of each round: one write per worker for every frame of the round. A
     * request whose frame could not be written is answered 503 (the worker is gone). The frames
     * flushed count down {@code sending}; the last one of a stopping worker is followed by its SHUTDOWN.
     */
    private void flushWorkers() {
        for (Supervisor.Worker w : written) {
            Requests r = w.requests;
            IOException failure = r.writeFailure;
            if (failure == null) {
                try {
                    w.channel.flush();
                } catch (IOException e) {
                    failure = e;
                }
            }
            if (failure != null) {
                for (long id : r.unflushed) {
                    Client c = r.pending.remove(id);
                    if (c != null) {
                        c.answer(Http.simpleResponse(503, w + " is gone: " + failure.getMessage()), false);
                    }
                }
            }
            int n = r.unflushed.size();
            r.unflushed.clear();
            r.writeFailure = null;
            lock.lock();
            try {
                r.sending -= n;
                if (r.sending == 0 && w.state == WorkerInfo.State.STOPPING) {
                    supervisor.sendShutdownLocked(w);
                }
            } finally {
                lock.unlock();
            }
        }
        written.clear();
    }

    // ---------------------------------------------------------------- answers

    /** The request part of a worker's RESULTS frame (after its kind byte), on that worker's connection thread. */
    static void onAnswer(Supervisor.Worker w, DataInputStream in) throws IOException {
        long id = in.readLong();
        boolean keep = in.readBoolean();
        byte[] response = FrameChannel.readBytes(in);
        Client c = w.requests.pending.remove(id);
        if (c != null) {
            c.answer(response, keep);
        }
    }

    /** The worker exited (called under the supervisor's lock): every request it held is answered 503. */
    static void failRequests(Supervisor.Worker w, String cause) {
        byte[] response = Http.simpleResponse(503, w + " exited while handling this request: " + cause);
        for (Client c : w.requests.pending.values()) {
            c.answer(response, false);
        }
        w.requests.pending.clear();
    }

    void awaitClientsIdle() {
        selector.wakeup(); // the acceptor just closed: the loop lets go of it now, not at its next round
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

    /** Closes every client connection and ends the loop. */
    void closeClients() {
        stopped = true;
        for (Client c : clients) {
            c.close();
        }
        selector.wakeup();
        if (loopThread == null) {
            Supervisor.closeQuietly(selector); // a start that failed: no loop to close it
        }
    }

    /** The loop looks at a client again: the rest of an answer to write, or what it read ahead meanwhile. */
    private void handBack(Client c) {
        handedBack.add(c);
        selector.wakeup();
    }

    /** One client connection; its states are in the class comment. */
    final class Client {
        final SocketChannel channel;
        final String remote;
        SelectionKey key;
        volatile long lastActiveNanos = System.nanoTime();
        // the loop's own: what was read and not parsed yet, the end of the client's stream, a paused read
        private byte[] buffered;
        private int bufferedLength;
        private boolean eof;
        private boolean readPaused;
        // guarded by this:
        private boolean inFlight;     // a request dispatched or waiting for a worker, not answered yet
        private boolean keepAlive;    // the request in flight asked to keep the connection
        private ByteBuffer rest;      // the part of an answer the socket did not take at once
        private boolean closeAfterRest;
        private boolean lookAgain;    // the loop holds bytes, an EOF or a paused read for after the answer
        private boolean closed;

        Client(SocketChannel channel, String remote) {
            this.channel = channel;
            this.remote = remote;
        }

        /** The loop: the socket is readable. */
        void onReadable() throws IOException {
            ByteBuffer b = readBuffer;
            b.clear();
            int n = channel.read(b);
            if (n == 0) {
                return;
            }
            lastActiveNanos = System.nanoTime();
            if (n < 0) {
                eof = true;
                updateInterest(); // level-triggered: an EOF left registered fires for ever
                process(null, 0);
            } else if (bufferedLength == 0) {
                process(b.array(), n); // the usual case: parsed straight from the read buffer
            } else {
                append(b.array(), n);
                process(null, 0);
            }
        }

        private void append(byte[] bytes, int n) {
            if (buffered == null) {
                buffered = new byte[Math.max(n, 1024)];
            } else if (buffered.length - bufferedLength < n) {
                buffered = Arrays.copyOf(buffered, Math.max(buffered.length * 2, bufferedLength + n));
            }
            System.arraycopy(bytes, 0, buffered, bufferedLength, n);
            bufferedLength += n;
        }

        /**
         * The loop: parses a request from what was read (the read buffer's first {@code n} bytes, or
         * the client's own buffer when {@code fresh} is null) unless one is in flight; dispatches it
         * when whole; keeps what is not parsed yet. A request still arriving is parsed again from
         * its start after each read: its head again, but a Content-Length body is not copied until
         * it is all there ({@link LineInput#readNBytes}); a chunked one is, each time.
         */
        private void process(byte[] fresh, int n) {
            byte[] data = fresh != null ? fresh : buffered;
            int length = fresh != null ? n : bufferedLength;
            Http.Request request = null;
            synchronized (this) {
                if (closed) {
                    return;
                }
                if (inFlight || rest != null) {
                    if (fresh != null) {
                        append(fresh, n);
                    }
                    lookAgain = bufferedLength > 0 || eof;
                    if (bufferedLength > READ_AHEAD && !readPaused) {
                        readPaused = true;
                        lookAgain = true;
                        updateInterest();
                    }
                    return;
                }
                int consumed = 0;
                if (length > 0) {
                    var in = new LineInput(data, 0, length);
                    try {
                        request = Http.readRequest(in);
                        if (request != null) {
                            consumed = in.position();
                        }
                    } catch (Http.BadRequest e) {
                        // the same status a worker answers with, then the connection ends
                        bufferedLength = 0;
                        buffered = null;
                        writeLocked(ByteBuffer.wrap(Http.simpleResponse(e.status(), e.getMessage())), true);
                        updateInterest(); // the rest, if any, when the socket is writable
                        return;
                    } catch (EOFException e) {
                        // not all of it has arrived yet
                    } catch (IOException e) {
                        closeLocked();
                        return;
                    }
                }
                // keep what is not parsed yet in the client's own buffer
                int left = length - consumed;
                if (fresh != null) {
                    if (left > 0) {
                        append(Arrays.copyOfRange(fresh, consumed, length), left);
                    }
                } else if (consumed > 0) {
                    System.arraycopy(buffered, consumed, buffered, 0, left);
                    bufferedLength = left;
                }
                if (request == null) {
                    if (eof) {
                        closeLocked(); // the client left, between requests or within one
                    }
                    return;
                }
                if (bufferedLength == 0 && buffered != null && buffered.length > READ_BUFFER) {
                    buffered = null; // a large request passed: do not keep its room
                }
                inFlight = true;
                keepAlive = request.keepAlive();
                lookAgain = bufferedLength > 0 || eof;
            }
            dispatch(this, request); // outside our monitor: the supervisor's lock comes first
        }

        /** The loop: a client handed back after its answer (or the start of one) was written. */
        void resume() {
            synchronized (this) {
                if (closed) {
                    return;
                }
                if (rest != null) {
                    updateInterest(); // writable: writeRest
                    return;
                }
                if (inFlight) {
                    return;
                }
                if (readPaused) {
                    readPaused = false;
                    updateInterest();
                }
            }
            process(null, 0);
        }

        /** The loop: the socket is writable again, and part of an answer waits. */
        void writeRest() {
            synchronized (this) {
                if (closed || rest == null) {
                    return;
                }
                ByteBuffer b = rest;
                rest = null;
                writeLocked(b, closeAfterRest);
                if (rest != null || closed) {
                    return;
                }
                readPaused = false;
                updateInterest();
            }
            process(null, 0);
        }

        /** The loop, under this monitor: reading unless paused or at EOF; writing while part of an answer waits. */
        private void updateInterest() {
            if (key == null || !key.isValid()) {
                return;
            }
            key.interestOps((readPaused || eof ? 0 : SelectionKey.OP_READ) | (rest != null ? SelectionKey.OP_WRITE : 0));
        }

        /**
         * The request in flight is answered: on a worker's connection thread, in exit handling, or
         * on the loop (503). The socket takes what it can now; the loop writes the rest.
         */
        void answer(byte[] response, boolean keep) {
            boolean handBack;
            synchronized (this) {
                if (closed || !inFlight) {
                    return;
                }
                inFlight = false;
                writeLocked(ByteBuffer.wrap(response), !keep || !keepAlive || supervisor.isClosing());
                lastActiveNanos = System.nanoTime();
                handBack = !closed && (rest != null || lookAgain);
            }
            if (handBack) {
                handBack(this);
            }
        }

        /** Under this monitor: writes without blocking; what is left waits in {@code rest}. */
        private void writeLocked(ByteBuffer b, boolean closeAfter) {
            try {
                while (b.hasRemaining()) {
                    if (channel.write(b) == 0) {
                        break;
                    }
                    lastActiveNanos = System.nanoTime();
                }
            } catch (IOException e) {
                closeLocked(); // the client went away
                return;
            }
            if (b.hasRemaining()) {
                rest = b;
                closeAfterRest = closeAfter;
                lookAgain = true;
            } else if (closeAfter) {
                closeLocked();
            }
        }

        /**
         * The loop's sweep: an idle client (nothing in flight, no answer being written) is closed. A
         * client that does not read its answer keeps its connection, as a blocking write would.
         */
        synchronized void closeIfIdle() {
            if (!inFlight && rest == null && System.nanoTime() - lastActiveNanos > TimeUnit.MILLISECONDS.toNanos(CLIENT_IDLE_MILLIS)) {
                closeLocked();
            }
        }

        synchronized void close() {
            closeLocked();
        }

        private void closeLocked() {
            if (closed) {
                return;
            }
            closed = true;
            clients.remove(this);
            Supervisor.closeQuietly(channel); // registered: the JDK shuts its output down now, closes at the next select
        }
    }
}
