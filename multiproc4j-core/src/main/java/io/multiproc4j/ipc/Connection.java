package io.multiproc4j.ipc;

import io.multiproc4j.internal.ipc.Attachments;
import io.multiproc4j.internal.ipc.MessageRing;
import io.multiproc4j.internal.ipc.PipeLayout;
import io.multiproc4j.internal.ipc.RingLayout;
import io.multiproc4j.internal.shm.ProcessIdentity;
import io.multiproc4j.internal.shm.Segment;
import io.multiproc4j.spi.Codec;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.NotSerializableException;
import java.io.ObjectInputStream;
import java.io.Serial;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.lang.ref.Reference;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One end of a {@link Pipe}: Python's {@code multiprocessing.connection.Connection}.
 *
 * {@snippet :
 * Pipe<String> pipe = Pipe.duplex();
 * CompletableFuture<String> reply = pool.applyAsync(end -> { end.send("hello"); return end.receive(); }, pipe.right());
 * pipe.left().receive();          // "hello"
 * pipe.left().send("bye");        // reply completes with "bye"
 * }
 *
 * <p>Messages keep their boundaries: three sends are three receives. {@link #send} takes any
 * serializable object (encoded with {@link Codec#standard()}); {@link #sendBytes} sends raw bytes
 * without encoding (so does {@code send} of a {@code byte[]}). {@link #receive()} of a raw-bytes
 * message returns the {@code byte[]}; {@link #receiveBytes()} of an object message returns its
 * encoded bytes.
 *
 * <h2>Buffering</h2>
 * Each direction is a ring of {@link Pipe#DEFAULT_BUFFER_BYTES} bytes (or the size given to the
 * factory), the same for duplex and one-way pipes. A send returns as soon as its message is in the
 * ring and blocks only while the ring lacks room for it; a message larger than a quarter of the
 * ring travels through a temporary file in {@code /dev/shm} and takes a few dozen bytes of ring, so
 * any size (16 MiB and more) works and no send ever needs the receiver to be reading at the same
 * time.
 *
 * <h2>Closing and failure</h2>
 * {@link #close()} closes this end for every process that holds it. The other end then receives
 * what was already sent, and after that {@link ConnectionClosedException} (its cause is an
 * {@link java.io.EOFException}); its sends fail at once with the same exception. A peer
 * process that dies without closing is noticed by a waiting receive or send within about 0.1 s,
 * with the same exception naming the dead pid. Using the wrong direction of a one-way end is an
 * {@link IllegalStateException}.
 *
 * <h2>Threads and processes</h2>
 * An end is safe to use from several threads and processes at once (every message is appended and
 * taken whole under the ring's lock); messages from one sender arrive in order. A receive takes up
 * to 64 messages that are already waiting (256 KiB at most) in one go and keeps the rest in this
 * end object for the next receives: a process killed with such messages loses them, as it would
 * lose what it had read from an OS pipe, and two processes receiving on one end (which Python
 * forbids) do not share messages evenly. An end is
 * {@link Serializable}: only the pipe's name, the end and a nonce travel, and the receiving JVM
 * maps the pipe's memory on deserialization.
 *
 * @param <T> the type of objects sent
 */
public final class Connection<T> implements AutoCloseable, Serializable {
    @Serial
    private static final long serialVersionUID = 1L;
    private static final Codec CODEC = Codec.standard();
    private static final VarHandle INT = ValueLayout.JAVA_INT.varHandle();
    private static final VarHandle LONG = ValueLayout.JAVA_LONG.varHandle();
    /** The most messages one receive takes from the ring at once (the rest wait in this end). */
    private static final int RECEIVE_BATCH = 64;
    /** A batch stops growing once it holds this many bytes. */
    private static final long RECEIVE_BATCH_BYTES = 256 * 1024;

    private final String segmentName;
    private final long nonce;
    private final int end;
    private transient Segment segment;
    /** Keeps a deserialized end's mapping alive (see {@code Attachments}); null for the creator's ends. */
    private transient Attachments.Attachment attachment;
    private transient MessageRing sendRing;
    private transient MessageRing receiveRing;
    private transient boolean duplex;
    private transient Pipe<T> pipe;
    /** Messages taken from the ring by an earlier receive, not yet returned; guarded by {@link #receiveLock}. */
    private transient ArrayDeque<MessageRing.Message> received;
    private transient ReentrantLock receiveLock;

    Connection(Segment segment, int end, Pipe<T> pipe) {
        this.segmentName = segment.name();
        this.nonce = segment.nonce();
        this.end = end;
        this.pipe = pipe;
        bind(segment);
    }

    private void bind(Segment attached) {
        this.segment = attached;
        this.received = new ArrayDeque<>();
        this.receiveLock = new ReentrantLock();
        MemorySegment memory = attached.data();
        this.duplex = memory.get(ValueLayout.JAVA_INT, PipeLayout.DUPLEX_OFFSET) != 0;
        long ringBytes = memory.get(ValueLayout.JAVA_LONG, PipeLayout.RINGS_OFFSET + RingLayout.RING_BYTES_OFFSET);
        String name = "pipe '" + segmentName + "'";
        if (duplex) {
            MessageRing zeroToOne = new MessageRing(memory, PipeLayout.ringOffset(0, ringBytes), segmentName,
                    name + " (end 0 → end 1)", false);
            MessageRing oneToZero = new MessageRing(memory, PipeLayout.ringOffset(1, ringBytes), segmentName,
                    name + " (end 1 → end 0)", false);
            sendRing = end == 0 ? zeroToOne : oneToZero;
            receiveRing = end == 0 ? oneToZero : zeroToOne;
        } else {
            MessageRing ring = new MessageRing(memory, PipeLayout.ringOffset(0, ringBytes), segmentName, name, false);
            sendRing = end == 1 ? ring : null;
            receiveRing = end == 0 ? ring : null;
        }
    }

    // ------------------------------------------------------------------------------------ send

    /**
     * Sends an object (encoded with {@link Codec#standard()}).
     *
     * @param message any serializable object, or null
     * @throws IllegalArgumentException   when it cannot be serialized (names the class; nothing was sent)
     * @throws ConnectionClosedException  when this end or the other end is closed
     * @throws IllegalStateException      on the receiving end of a one-way pipe
     */
    public void send(T message) {
        MessageRing ring = sendRing("send");
        if (message instanceof byte[] raw) {
            // A byte[] travels as raw bytes: receive() returns it as is, without encoding.
            put(ring, RingLayout.TYPE_BYTES, raw, 0, raw.length);
            return;
        }
        byte[] bytes;
        try {
            bytes = CODEC.encode(message);
        } catch (NotSerializableException e) {
            throw new IllegalArgumentException("cannot send a " + message.getClass().getName()
                    + " through " + this + ": " + e.getMessage() + " is not Serializable; make it implement "
                    + "java.io.Serializable (or send a serializable copy); nothing was sent", e);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot encode a " + (message == null ? "null" : message.getClass().getName())
                    + " for " + this + ": " + e + "; nothing was sent", e);
        }
        put(ring, RingLayout.TYPE_OBJECT, bytes, 0, bytes.length);
    }

    /**
     * Sends raw bytes as one message.
     *
     * @param bytes the message
     * @throws ConnectionClosedException when this end or the other end is closed
     */
    public void sendBytes(byte[] bytes) {
        sendBytes(bytes, 0, bytes.length);
    }

    /**
     * Sends part of an array as one message.
     *
     * @param bytes  the array
     * @param offset where the message starts
     * @param length its length
     * @throws IndexOutOfBoundsException when the range is outside the array
     * @throws ConnectionClosedException when this end or the other end is closed
     */
    public void sendBytes(byte[] bytes, int offset, int length) {
        Objects.checkFromIndexSize(offset, length, bytes.length);
        put(sendRing("sendBytes"), RingLayout.TYPE_BYTES, bytes, offset, length);
    }

    private void put(MessageRing ring, int type, byte[] bytes, int offset, int length) {
        try {
            ring.put(type, bytes, offset, length, -1, this::checkPeerAlive);
        } catch (MessageRing.ClosedException e) {
            throw new ConnectionClosedException(closedMessage("send on"));
        } catch (IllegalStateException e) {
            throw closedMeanwhile(e, "send");
        } catch (InterruptedException e) {
            throw interrupted("send");
        } finally {
            Reference.reachabilityFence(this); // a deserialized end's mapping lives as long as the end
        }
    }

    // ------------------------------------------------------------------------------------ receive

    /**
     * Receives the next message, waiting as long as it takes.
     *
     * @return the object sent (a {@code byte[]} for a {@link #sendBytes} message)
     * @throws ConnectionClosedException when the other end closed (or died) and nothing is left
     * @throws IllegalStateException     when the message cannot be decoded here (names the class)
     */
    @SuppressWarnings("unchecked")
    public T receive() {
        MessageRing.Message message = take("receive");
        if (message.type() == RingLayout.TYPE_BYTES) {
            return (T) message.bytes();
        }
        try {
            return (T) CODEC.decode(message.bytes());
        } catch (IOException | ClassNotFoundException e) {
            throw new IllegalStateException("cannot decode a message received on " + this + ": " + e
                    + " (is the class on this JVM's class path?)", e);
        }
    }

    /**
     * @return the next message's bytes (for an object message, its encoding)
     * @throws ConnectionClosedException when the other end closed (or died) and nothing is left
     */
    public byte[] receiveBytes() {
        return take("receiveBytes").bytes();
    }

    /**
     * Receives the next message into {@code buffer} from index 0.
     *
     * @param buffer where to put it
     * @return the message length
     * @throws BufferTooShortException   when it does not fit (the exception carries it)
     * @throws ConnectionClosedException when the other end closed (or died) and nothing is left
     */
    public int receiveBytesInto(byte[] buffer) {
        return receiveBytesInto(buffer, 0);
    }

    /**
     * Receives the next message into {@code buffer} from {@code offset}.
     *
     * @param buffer where to put it
     * @param offset where in {@code buffer} it starts
     * @return the message length
     * @throws IndexOutOfBoundsException when {@code offset} is outside the buffer (nothing is received)
     * @throws BufferTooShortException   when it does not fit (the message is received and carried by the exception)
     * @throws ConnectionClosedException when the other end closed (or died) and nothing is left
     */
    public int receiveBytesInto(byte[] buffer, int offset) {
        Objects.checkIndex(offset, buffer.length + 1);
        byte[] message = take("receiveBytesInto").bytes();
        int room = buffer.length - offset;
        if (message.length > room) {
            throw new BufferTooShortException(message, room);
        }
        System.arraycopy(message, 0, buffer, offset, message.length);
        return message.length;
    }

    private MessageRing.Message take(String action) {
        MessageRing ring = receiveRing(action);
        try {
            receiveLock.lockInterruptibly();
        } catch (InterruptedException e) {
            throw interrupted(action);
        }
        try {
            MessageRing.Message early = received.poll();
            if (early != null) {
                return early;
            }
            // One lock of the ring for up to RECEIVE_BATCH messages: the sender then rarely meets the
            // receiver on the ring's lock, which is what a busy pipe between two processes pays for.
            List<MessageRing.Message> batch = ring.take(RECEIVE_BATCH, RECEIVE_BATCH_BYTES, -1, this::checkPeerAlive);
            for (int i = 1; i < batch.size(); i++) {
                received.add(batch.get(i));
            }
            return batch.get(0);
        } catch (MessageRing.ClosedException e) {
            throw new ConnectionClosedException(closedMessage(action + " on"));
        } catch (IllegalStateException e) {
            throw closedMeanwhile(e, action);
        } catch (InterruptedException e) {
            throw interrupted(action);
        } finally {
            receiveLock.unlock();
            Reference.reachabilityFence(this);
        }
    }

    /**
     * @return whether a receive would return at once (a message is there, or the other end is closed
     *     and the receive would throw)
     */
    public boolean poll() {
        return poll(Duration.ZERO);
    }

    /**
     * Waits until a receive would not block.
     *
     * @param timeout the most to wait
     * @return whether a message is there (or the other end is closed, so a receive throws at once)
     * @throws ConnectionClosedException when this end is closed
     */
    public boolean poll(Duration timeout) {
        MessageRing ring = receiveRing("poll");
        receiveLock.lock();
        try {
            if (!received.isEmpty()) {
                return true;
            }
        } finally {
            receiveLock.unlock();
        }
        try {
            return ring.awaitNotEmpty(Math.max(0, timeout.toNanos()), this::checkPeerAlive);
        } catch (ConnectionClosedException e) {
            return true; // the peer died: a receive throws at once
        } catch (InterruptedException e) {
            throw interrupted("poll");
        } finally {
            Reference.reachabilityFence(this);
        }
    }

    // ------------------------------------------------------------------------------------ state

    /** @return whether this end can send (false only for the receiving end of a one-way pipe) */
    public boolean canSend() {
        return sendRing != null;
    }

    /** @return whether this end can receive (false only for the sending end of a one-way pipe) */
    public boolean canReceive() {
        return receiveRing != null;
    }

    /** @return whether this end was closed (by any process) */
    public boolean isClosed() {
        return segment.isClosed() || (int) INT.getVolatile(segment.data(), PipeLayout.closedOffset(end)) != 0;
    }

    /**
     * Closes this end for every process: the other end receives what was sent, then
     * {@link ConnectionClosedException}; its sends fail. Idempotent. In the process that created the
     * pipe, closing both ends also removes the pipe's shared memory.
     */
    @Override
    public void close() {
        if (segment.isClosed()) {
            return;
        }
        MemorySegment memory = segment.data();
        try {
            if (INT.compareAndSet(memory, PipeLayout.closedOffset(end), 0, 1)) {
                if (sendRing != null) {
                    sendRing.shutdown(false);
                }
                if (receiveRing != null) {
                    receiveRing.shutdown(true);
                }
            }
        } finally {
            Reference.reachabilityFence(this);
        }
        if (pipe != null) {
            pipe.endClosed();
        }
    }

    private MessageRing sendRing(String action) {
        checkOpen(action);
        if (sendRing == null) {
            throw new IllegalStateException("cannot " + action + " on " + this + ": it is the receiving end of a one-way "
                    + "pipe; send on the other end (pipe.right()), or use Pipe.duplex() to talk both ways");
        }
        return sendRing;
    }

    private MessageRing receiveRing(String action) {
        checkOpen(action);
        if (receiveRing == null) {
            throw new IllegalStateException("cannot " + action + " on " + this + ": it is the sending end of a one-way "
                    + "pipe; receive on the other end (pipe.left()), or use Pipe.duplex() to talk both ways");
        }
        return receiveRing;
    }

    private void checkOpen(String action) {
        if (isClosed()) {
            throw new ConnectionClosedException("cannot " + action + " on " + this + ": this end is closed");
        }
    }

    /** The pipe was closed (and unmapped) by another thread of this process while this one waited. */
    private RuntimeException closedMeanwhile(IllegalStateException e, String action) {
        return segment.isClosed() ? new ConnectionClosedException("cannot " + action + " on " + this
                + ": the pipe was closed in this process meanwhile") : e;
    }

    private String closedMessage(String action) {
        if (segment.isClosed() || (int) INT.getVolatile(segment.data(), PipeLayout.closedOffset(end)) != 0) {
            return "cannot " + action + " " + this + ": this end is closed";
        }
        return "cannot " + action + " " + this + ": the other end was closed"
                + (action.startsWith("send") ? "; nobody will receive this message" : " and every message it sent has been received (EOF)");
    }

    /** Ends a wait when the process holding the other end died without closing it. */
    private void checkPeerAlive() {
        MemorySegment memory = segment.data();
        long holder = PipeLayout.holderOffset(1 - end);
        long pid = (long) LONG.getVolatile(memory, holder);
        long start = (long) LONG.getVolatile(memory, holder + 8);
        if (pid != ProcessIdentity.PID && !ProcessIdentity.isAlive(pid, start)) {
            throw new ConnectionClosedException("the process holding the other end of " + this + " (pid " + pid
                    + ") died without closing it; no more messages will come (EOF)");
        }
    }

    private UncheckedIOException interrupted(String action) {
        Thread.currentThread().interrupt();
        return new UncheckedIOException(new InterruptedIOException(action + " on " + this + " was interrupted"));
    }

    void takeUp() {
        MemorySegment memory = segment.data();
        long holder = PipeLayout.holderOffset(end);
        LONG.setVolatile(memory, holder + 8, ProcessIdentity.START_TIME);
        LONG.setVolatile(memory, holder, ProcessIdentity.PID);
    }

    @Serial
    private void readObject(ObjectInputStream in) throws IOException, ClassNotFoundException {
        in.defaultReadObject();
        if (end != 0 && end != 1) {
            throw new java.io.InvalidObjectException("pipe end must be 0 or 1, was " + end);
        }
        attachment = Attachments.attach(segmentName, nonce);
        bind(attachment.segment());
        takeUp();
    }

    @Override
    public String toString() {
        return (duplex ? "end " + end + " of duplex pipe '" : (end == 0 ? "receiving" : "sending")
                + " end of one-way pipe '") + segmentName + "'";
    }
}
