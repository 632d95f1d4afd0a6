package io.multiproc4j.internal.transport;

import java.io.Closeable;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The pool's end of one worker's connection: the only code that touches its channel.
 *
 * <pre>
 *  user thread ─► send(message) ─► outbox ─► wakes the sender thread ─► channel
 *  reader thread ─► send(message) ─► outbox ─► written by that reader itself once its handler returns
 *  channel ─► reader (the connection's own thread, {@link #readLoop}) ─► handler
 * </pre>
 *
 * <h2>Concurrency</h2>
 * {@link #send} only queues and never blocks, never throws for an interrupted caller, and never
 * touches the socket from a user's thread: a {@link java.nio.channels.SocketChannel} is closed when
 * a thread blocked on it is interrupted, so a user's thread that wrote to it could kill a worker.
 * Transport threads (senders and readers) write; whoever holds {@code writeLock} drains the outbox,
 * so messages leave in the order they were queued (the worker's function table relies on it), and a
 * reader that queues the next batch in reply to a result writes it itself, without a thread hop.
 * One thread reads.
 *
 * <h2>Crash handling</h2>
 * A write that fails means the worker is dying: the link stops writing and drops the rest; the
 * reader sees EOF and returns, and the worker's exit, reported by supervision, settles what it held.
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

    /** The links a reader thread queued messages to while handling one message; it writes them after. */
    private static final ThreadLocal<List<WorkerLink>> DEFERRED = new ThreadLocal<>();

    private final FrameChannel channel;
    private final ConcurrentLinkedQueue<WorkerMessage> outbox = new ConcurrentLinkedQueue<>();
    private final ReentrantLock writeLock = new ReentrantLock();
    private final Thread sender;
    private volatile boolean closed;
    private volatile boolean broken;

    /**
     * @param channel the worker's connected channel
     * @param name    the worker's name, for the sender thread's name
     */
    public WorkerLink(FrameChannel channel, String name) {
        this.channel = channel;
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
        List<WorkerLink> deferred = DEFERRED.get();
        if (deferred != null) {
            if (!deferred.contains(this)) {
                deferred.add(this); // a reader: written when its handler returns
            }
        } else {
            LockSupport.unpark(sender);
        }
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
            } catch (IOException e) {
                broken = true; // the worker is dying: its exit settles what it held
                outbox.clear();
            } finally {
                writeLock.unlock();
            }
        }
    }

    /**
     * Reads messages until the worker closes the connection; runs on the connection's thread, which
     * also writes what its handler queued.
     *
     * @param handler what to do with each
     */
    public void readLoop(Handler handler) {
        List<WorkerLink> deferred = new ArrayList<>(2);
        DEFERRED.set(deferred);
        try {
            while (true) {
                handler.onMessage(WorkerMessage.decode(channel.receive()));
                for (int i = 0; i < deferred.size(); i++) {
                    deferred.get(i).drainOrWake();
                }
                deferred.clear();
            }
        } catch (IOException | RuntimeException e) {
            // EOF: the worker exited (its exit is reported by supervision) or broke the protocol
        } finally {
            DEFERRED.remove();
            for (WorkerLink link : deferred) {
                LockSupport.unpark(link.sender);
            }
            close();
        }
    }

    private void drainOrWake() {
        drain(false);
        if (!outbox.isEmpty()) {
            LockSupport.unpark(sender); // another thread held the lock; make sure nothing is stranded
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
