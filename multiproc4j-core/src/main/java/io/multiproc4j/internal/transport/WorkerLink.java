package io.multiproc4j.internal.transport;

import java.io.Closeable;
import java.io.IOException;
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
    private final Runnable onWriteFailure;
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
        this.channel = channel;
        this.onWriteFailure = onWriteFailure;
        this.sender = Thread.ofPlatform().daemon().name("multiproc4j-sender-" + name).start(this::sendLoop);
    }

    /**
     * Queues a message for the worker. Safe from any thread, an interrupted one included; never
     * blocks and never writes on a user's thread.
     *
     * @param message the message
     */
    public void send(WorkerMessage message) {
        outbox.offer(message);
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

    private void sendLoop() {
        while (!closed && !broken) {
            drain(true);
            if (outbox.isEmpty() && !closed) {
                LockSupport.park(this);
            }
        }
        drain(true);
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

    /** Stops the sender after what is queued, and closes the channel. */
    @Override
    public void close() {
        closed = true;
        LockSupport.unpark(sender);
        try {
            channel.close();
        } catch (IOException e) {
            // already closed
        }
    }
}
