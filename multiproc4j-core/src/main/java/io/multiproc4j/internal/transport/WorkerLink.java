package io.multiproc4j.internal.transport;

import java.io.Closeable;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;

/**
 * The pool's end of one worker's connection: the only code that touches its channel.
 *
 * <pre>
 *  any thread ─► send(message) ─► outbox ─► sender thread ─► channel (one flush per run of messages)
 *  channel ─► reader (the connection's own thread, {@link #readLoop}) ─► handler
 * </pre>
 *
 * <h2>Concurrency</h2>
 * {@link #send} only queues and never blocks, never throws for an interrupted caller, and never
 * touches the socket: a {@link java.nio.channels.SocketChannel} is closed when a thread blocked on
 * it is interrupted, so a user's thread that wrote to it could kill a worker. Messages leave in the
 * order they were queued (the worker's function table relies on it). One thread reads.
 *
 * <h2>Crash handling</h2>
 * A write that fails means the worker is dying: the sender stops and drops the rest; the reader
 * sees EOF and returns, and the worker's exit, reported by supervision, settles what it held.
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

    /** Queued by {@link #close()}: the sender ends once it reaches it. */
    private static final WorkerMessage CLOSE = new WorkerMessage.Recall(Long.MIN_VALUE);

    private final FrameChannel channel;
    private final LinkedBlockingQueue<WorkerMessage> outbox = new LinkedBlockingQueue<>();
    private final Thread sender;

    /**
     * @param channel the worker's connected channel
     * @param name    the worker's name, for the sender thread's name
     */
    public WorkerLink(FrameChannel channel, String name) {
        this.channel = channel;
        this.sender = Thread.ofPlatform().daemon().name("multiproc4j-sender-" + name).start(this::sendLoop);
    }

    /**
     * Queues a message for the worker. Safe from any thread, an interrupted one included.
     *
     * @param message the message
     */
    public void send(WorkerMessage message) {
        outbox.offer(message); // unbounded: offer never blocks and ignores the interrupt flag
    }

    private void sendLoop() {
        List<WorkerMessage> run = new ArrayList<>();
        try {
            while (true) {
                WorkerMessage first = outbox.take();
                run.add(first);
                outbox.drainTo(run);
                for (WorkerMessage message : run) {
                    if (message == CLOSE) {
                        channel.flush();
                        return;
                    }
                    message.write(channel);
                }
                run.clear();
                channel.flush(); // one system call for the run
            }
        } catch (IOException e) {
            // the worker is dying: its exit settles what it held
        } catch (InterruptedException e) {
            // only at shutdown of this JVM
        }
    }

    /**
     * Reads messages until the worker closes the connection; runs on the connection's thread.
     *
     * @param handler what to do with each
     */
    public void readLoop(Handler handler) {
        try {
            while (true) {
                handler.onMessage(WorkerMessage.decode(channel.receive()));
            }
        } catch (IOException | RuntimeException e) {
            // EOF: the worker exited (its exit is reported by supervision) or broke the protocol
        } finally {
            close();
        }
    }

    /** Stops the sender after what is queued, and closes the channel. */
    @Override
    public void close() {
        outbox.offer(CLOSE);
        try {
            channel.close();
        } catch (IOException e) {
            // already closed
        }
    }

    /** @return the sender thread, for tests that check who writes */
    Thread senderThread() {
        return sender;
    }
}
