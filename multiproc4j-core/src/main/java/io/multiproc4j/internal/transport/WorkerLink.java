package io.multiproc4j.internal.transport;

import io.multiproc4j.internal.transport.FrameChannel.Frame;
import java.io.Closeable;
import java.io.IOException;
import java.util.ArrayDeque;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The pool's end of one worker's connection: the only code that touches its channel.
 *
 * <pre>
 *  user thread ─► send(message) ─► outbox ─► wakes the sender thread ─► channel
 *  this link's reader ─► send(message) ─► outbox ─► written by that reader itself once its handler returns
 *  another link's reader ─► send(message) ─► outbox ─► wakes this link's sender thread ─► channel
 *  channel ─► reader (the connection's own thread, {@link #readLoop}) ─► handler
 * </pre>
 *
 * <h2>Concurrency</h2>
 * {@link #send} only queues and never blocks, never throws for an interrupted caller, and never
 * touches the socket from a user's thread: a {@link java.nio.channels.SocketChannel} is closed when
 * a thread blocked on it is interrupted, so a user's thread that wrote to it could kill a worker.
 * Transport threads (senders and readers) write; whoever holds {@code writeLock} drains the outbox,
 * so messages leave in the order they were queued (the worker's function table relies on it), and a
 * reader that queues the next batch in reply to a result writes it itself, without a thread hop,
 * once no other whole frame is waiting in its read buffer (a run of results gets one write).
 *
 * <p>A reader writes inline only to its <em>own</em> link. A write blocks while the peer does not
 * read; a worker's lifeline always reads (it never writes, see {@code WorkerMain}), so a reader
 * writing to its own worker always finishes. Were a reader to write to another worker's link, two
 * readers could each block writing to the other's worker while neither reads its own worker's
 * results: a cycle with no deadline. Messages for other links wake those links' senders instead.
 *
 * <h2>Crash handling</h2>
 * A write that fails (the worker died; a frame over {@link FrameChannel#MAX_FRAME}; a message that
 * cannot be written at all) breaks the link: it stops writing, drops the rest, and calls
 * {@code onWriteFailure}, which kills the worker unless the link was being closed. The worker's
 * exit, reported by supervision, then settles what it held; a live worker behind a broken link
 * would hold its batches for ever. The reader sees EOF and returns.
 *
 * <h2>With rings ({@link WorkerRings}: {@code -Dmultiproc4j.transport=ring}; the default is the socket alone)</h2>
 * <pre>
 *  any thread ─► send(BATCH / SHUTDOWN) ─► ringLock ─► fits? ─yes─► request ring (a store; a FIFO byte only if the worker sleeps)
 *                                                    └─no──► ringPending ─► sender thread streams it in fragments as room frees
 *  any thread ─► send(SETUP / RECALL) ─► outbox ─► sender or this reader ─► socket (SETUP names the segment)
 *  result ring ─► reader ─► handler;  reader, when the ring is empty: flags itself asleep ─► socket read
 *        ─► DOORBELL (a result was committed) / RECALLED (─► handler) / EOF (deliver what is committed, return)
 * </pre>
 * The caller's own thread writes a batch into the request ring under {@code ringLock}: a memory
 * copy that never waits and touches no channel, so an interrupted caller harms nothing (the bell it
 * may ring is a byte written to a FIFO with java.io, which no interrupt closes). A record
 * that does not fit in the free room now goes to {@code ringPending}, and while anything is there
 * every later record queues behind it, so the worker takes records in send order; the sender thread
 * writes the head of {@code ringPending} into the ring (in fragments for one over half the ring),
 * polling for room <em>without</em> {@code ringLock} (only it writes while {@code ringPending} is not
 * empty), so no caller ever waits for the worker. RECALL stays on the socket, read by the worker's
 * lifeline. The reader is the socket's only reader: it reads the socket only when the result ring
 * is empty and it has flagged itself asleep, so a worker's commit costs it a DOORBELL frame only
 * then; at the socket's EOF (the worker's exit, or this link's close) it delivers every record
 * committed in the ring before it returns, so supervision, which waits for the reader before it
 * settles an exit, never counts a stored result as lost. The reader unmaps the segment when it
 * returns ({@link #close()} does when no reader ever ran).
 */
public final class WorkerLink implements Closeable {
    /** Handles what a worker sends, on the reader thread. */
    @FunctionalInterface
    public interface Handler {
        /**
         * @param message a message from the worker
         * @throws IOException when it breaks the protocol (the link then closes)
         */
        void onMessage(WorkerMessage message) throws IOException;
    }

    /** The link whose reader the current thread is, if any. */
    private static final ThreadLocal<WorkerLink> READING = new ThreadLocal<>();

    private final FrameChannel channel;
    private final String name;
    private final Runnable onWriteFailure;
    /** Null: the socket alone. */
    private final WorkerRings rings;
    private final ReentrantLock ringLock = new ReentrantLock();
    /** Records waiting for room in the request ring, in send order; guarded by {@code ringLock}. */
    private final ArrayDeque<WorkerMessage> ringPending = new ArrayDeque<>();
    /** The socket's EOF (or close), seen by the reader while asleep (rings only; reader's thread). */
    private boolean socketEnded;
    /** A frame the reader read while asleep, for it to handle (rings only; reader's thread). */
    private WorkerMessage socketMessage;
    /** Whether {@link #readLoop} runs (it unmaps the rings when it returns); guarded by {@code this}. */
    private boolean readerRunning;
    private final ConcurrentLinkedQueue<WorkerMessage> outbox = new ConcurrentLinkedQueue<>();
    private final ReentrantLock writeLock = new ReentrantLock();
    private final Thread sender;
    /** Set by this link's reader when its handler queued a message here; read by that thread only. */
    private boolean queuedByReader;
    private volatile boolean closed;
    private volatile boolean broken;

    /**
     * @param channel        the worker's connected channel
     * @param name           the worker's name, for the sender thread's name
     * @param onWriteFailure called once when a write fails while the link is open: kills the worker
     */
    public WorkerLink(FrameChannel channel, String name, Runnable onWriteFailure) {
        this(channel, name, onWriteFailure, null);
    }

    private WorkerLink(FrameChannel channel, String name, Runnable onWriteFailure, WorkerRings rings) {
        this.channel = channel;
        this.name = name;
        this.onWriteFailure = onWriteFailure;
        this.rings = rings;
        this.sender = Thread.ofPlatform().daemon().name("multiproc4j-sender-" + name).start(this::sendLoop);
    }

    /**
     * A pool worker's link: with rings in shared memory unless {@value WorkerRings#PROPERTY} is
     * {@code socket} or they cannot be made; SETUP sent through it names them to the worker.
     *
     * @param channel        the worker's connected channel
     * @param name           the worker's name
     * @param onWriteFailure called once when a write fails while the link is open: kills the worker
     * @return the link
     */
    public static WorkerLink forWorker(FrameChannel channel, String name, Runnable onWriteFailure) {
        return new WorkerLink(channel, name, onWriteFailure, WorkerRings.enabled() ? WorkerRings.create(name) : null);
    }

    /**
     * Refuses a bad {@value WorkerRings#PROPERTY} at the pool's creation.
     *
     * @throws IllegalArgumentException naming the property and the values it takes
     */
    public static void checkTransport() {
        WorkerRings.enabled();
    }

    /** @return whether this link's data path is its rings */
    public boolean usesRings() {
        return rings != null;
    }

    /**
     * Queues a message for the worker. Safe from any thread, an interrupted one included; never
     * blocks and never writes on a user's thread.
     *
     * @param message the message
     */
    public void send(WorkerMessage message) {
        if (rings != null) {
            if (message instanceof WorkerMessage.BatchMessage || message instanceof WorkerMessage.Shutdown) {
                sendOnRing(message);
                return;
            }
            if (message instanceof WorkerMessage.Setup s && s.rings().isEmpty()) {
                message = new WorkerMessage.Setup(s.codecClass(), s.workerName(), s.streamResults(),
                        s.maxResidentBytes(), s.initializer(), rings.name());
            }
        }
        outbox.offer(message); // a sender polling for room in the ring is unparked below and writes it meanwhile
        if (READING.get() == this) {
            queuedByReader = true; // written by this reader when its handler returns
        } else {
            LockSupport.unpark(sender);
        }
    }

    /** @return whether a write failed (the worker is being killed) */
    public boolean isBroken() {
        return broken;
    }

    /** On the caller's thread: into the ring if it fits now and nothing waits before it, else queued. */
    private void sendOnRing(WorkerMessage message) {
        boolean failed = false;
        ringLock.lock();
        try {
            if (closed || broken) {
                return; // dropped, as a broken link drops its outbox
            }
            if (ringPending.isEmpty() && rings.requests().tryWrite(message.type().ordinal(), message.length(),
                    message::writeBody)) {
                return;
            }
            ringPending.add(message);
        } catch (Throwable e) { // a message that cannot be written, or a ring unmapped by close
            failed = true;
        } finally {
            ringLock.unlock();
        }
        if (failed) {
            fail();
        } else {
            LockSupport.unpark(sender);
        }
    }

    private boolean ringPendingEmpty() {
        ringLock.lock();
        try {
            return ringPending.isEmpty();
        } finally {
            ringLock.unlock();
        }
    }

    private void sendLoop() {
        ShmRing.AdaptiveSpin spin = new ShmRing.AdaptiveSpin(0);
        while (!closed && !broken) {
            drain(true);
            if (rings != null) {
                pumpRing(spin);
            }
            if (outbox.isEmpty() && !closed && (rings == null || ringPendingEmpty())) {
                LockSupport.park(this);
            }
        }
        drain(true);
    }

    /**
     * On the sender thread: writes {@code ringPending} into the request ring, oldest first, waiting
     * for room as the worker frees it (RECALLs queued meanwhile are written to the socket between
     * slices of the wait). The record stays at the head of {@code ringPending} until it is all in the
     * ring, so callers queue behind it and nothing overtakes it.
     */
    private void pumpRing(ShmRing.AdaptiveSpin spin) {
        try {
            while (!closed && !broken) {
                WorkerMessage next;
                ringLock.lock();
                try {
                    next = ringPending.peek();
                    if (next == null) {
                        return;
                    }
                    if (rings.requests().tryWrite(next.type().ordinal(), next.length(), next::writeBody)) {
                        ringPending.poll();
                        continue;
                    }
                } finally {
                    ringLock.unlock();
                }
                rings.requests().write(next.type().ordinal(), next.length(), next::writeBody, spin, () -> {
                    if (closed || broken) {
                        throw new IOException("the link is closed");
                    }
                    drain(true);
                }, null); // no bell for room: polls, unparked early by send() and close()
                ringLock.lock();
                try {
                    ringPending.poll();
                } finally {
                    ringLock.unlock();
                }
            }
        } catch (IOException e) {
            if (!closed) {
                fail();
            }
        } catch (Throwable e) { // whatever failed, the worker must not live on behind a dead link
            fail();
        }
    }

    /**
     * Writes what is queued. A reader ({@code wait} false) leaves it to the thread already writing,
     * which re-checks after unlocking. The sender ({@code wait} true) waits for that thread instead:
     * returning would send it round its loop without parking, spinning a core until the lock frees.
     */
    private void drain(boolean wait) {
        while (!outbox.isEmpty() && !broken) {
            if (wait) {
                writeLock.lock();
            } else if (!writeLock.tryLock()) {
                return; // the holder drains, and re-checks after unlocking
            }
            try {
                WorkerMessage message;
                while ((message = outbox.poll()) != null) {
                    message.write(channel);
                }
                channel.flush(); // one system call for the run
            } catch (Throwable e) { // whatever failed, the worker must not live on behind a dead link
                fail();
            } finally {
                writeLock.unlock();
            }
        }
    }

    private void fail() {
        broken = true;
        outbox.clear();
        ringLock.lock();
        try {
            ringPending.clear();
        } finally {
            ringLock.unlock();
        }
        if (!closed) {
            onWriteFailure.run(); // its exit settles what it held
        }
    }

    /**
     * Reads messages until the worker closes the connection; runs on the connection's thread, which
     * also writes what its handler queued for this link.
     *
     * @param handler what to do with each
     */
    public void readLoop(Handler handler) {
        if (rings != null) {
            readRings(handler);
            return;
        }
        READING.set(this);
        try {
            while (true) {
                handler.onMessage(WorkerMessage.decode(channel.receive()));
                // perf: while whole frames are buffered, their answers wait and leave in one write
                if (queuedByReader && !channel.hasBufferedFrame()) {
                    queuedByReader = false;
                    drain(false);
                    if (!outbox.isEmpty()) {
                        LockSupport.unpark(sender); // another thread held the lock; nothing is stranded
                    }
                }
            }
        } catch (IOException | RuntimeException e) {
            // EOF: the worker exited (its exit is reported by supervision) or broke the protocol
        } finally {
            READING.remove();
            LockSupport.unpark(sender);
            close();
        }
    }

    /** The reader with rings: the result ring, and the socket while the ring is empty, until the socket's EOF. */
    private void readRings(Handler handler) {
        synchronized (this) {
            if (closed) {
                rings.close();
                return;
            }
            readerRunning = true;
        }
        READING.set(this);
        ShmRing results = rings.results();
        ShmRing.AdaptiveSpin spin = new ShmRing.AdaptiveSpin(WorkerRings.SPIN_NANOS);
        java.util.function.BooleanSupplier never = () -> false;
        ShmRing.Sleeper sleepOnSocket = () -> {
            Frame frame;
            try {
                frame = channel.receive();
            } catch (IOException e) {
                socketEnded = true; // EOF: the worker exited or this link closed
                return;
            }
            if (frame.code() != FrameType.DOORBELL.ordinal()) {
                socketMessage = WorkerMessage.decode(frame); // RECALLED
            }
        };
        try {
            while (true) {
                WorkerMessage message = socketMessage;
                socketMessage = null;
                if (message == null) {
                    Frame frame = results.poll();
                    if (frame != null) {
                        message = WorkerMessage.decode(frame);
                    }
                }
                if (message != null) {
                    handler.onMessage(message);
                    if (queuedByReader) {
                        queuedByReader = false;
                        drain(false);
                        if (!outbox.isEmpty()) {
                            LockSupport.unpark(sender);
                        }
                    }
                    continue;
                }
                if (socketEnded) {
                    return; // the ring is empty after EOF (the worker is gone or cut off): all delivered
                }
                results.awaitData(spin, never, sleepOnSocket);
            }
        } catch (IOException | RuntimeException e) {
            // a malformed record: the link closes, and the worker with it
        } finally {
            READING.remove();
            LockSupport.unpark(sender);
            close();
            synchronized (this) {
                readerRunning = false;
            }
            rings.close();
        }
    }

    /** Stops the sender after what is queued, and closes the channel (and the rings, when no reader runs). */
    @Override
    public void close() {
        closed = true;
        LockSupport.unpark(sender);
        try {
            channel.close();
        } catch (IOException e) {
            // already closed
        }
        if (rings != null) {
            boolean unmap;
            synchronized (this) {
                unmap = !readerRunning;
            }
            if (unmap) {
                rings.close();
            }
        }
    }
}
