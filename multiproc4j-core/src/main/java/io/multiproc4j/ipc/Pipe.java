package io.multiproc4j.ipc;

import io.multiproc4j.internal.ipc.MessageRing;
import io.multiproc4j.internal.ipc.PipeLayout;
import io.multiproc4j.internal.ipc.RingLayout;
import io.multiproc4j.internal.shm.Segment;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Two connected {@link Connection} ends, between threads or processes of one machine: Python's
 * {@code multiprocessing.Pipe()}.
 *
 * {@snippet :
 * try (Pool pool = Pool.processes(1)) {
 *     Pipe<String> pipe = Pipe.duplex();              // or Pipe.oneWay(): the same buffering rule
 *     CompletableFuture<String> reply = pool.applyAsync(end -> { end.send("hello"); return end.receive(); }, pipe.right());
 *     pipe.left().receive();                           // "hello"
 *     pipe.left().send("bye");                         // reply completes with "bye"
 *     pipe.close();
 * }
 * }
 *
 * <h2>One buffering rule</h2>
 * Python's duplex pipe is a socket and its one-way pipe an OS pipe, with different buffer sizes, so
 * a program that works with one may block with the other. Here both are shared-memory rings of the
 * same size: each direction buffers {@link #DEFAULT_BUFFER_BYTES} (4 MiB) of messages, or the size
 * given to {@link #duplex(long)} / {@link #oneWay(long)}. A send blocks only while its direction's
 * ring has no room for the message; messages larger than a quarter of the ring go through a
 * temporary file and take almost no room, so no message size can block a send forever on its
 * own. Ends are {@link java.io.Serializable}: pass one to a task and it connects in the worker.
 *
 * <h2>Ends</h2>
 * Duplex: both ends send and receive. One-way: {@link #left()} only receives and {@link #right()}
 * only sends (Python's {@code reader, writer = Pipe(duplex=False)}).
 *
 * <h2>Lifetime</h2>
 * The pipe's memory is a {@code /dev/shm} segment owned by the creating process. {@link #close()}
 * closes both ends and removes it (processes that hold an end keep a valid mapping, and see the
 * ends closed); closing both ends one by one in the creating process does the same. A creator that
 * dies leaves the segment for the next multiproc4j process's start-up cleanup.
 *
 * @param <T> the type of objects sent
 */
public final class Pipe<T> implements AutoCloseable {
    /** Bytes each direction buffers unless told otherwise: 4 MiB. */
    public static final long DEFAULT_BUFFER_BYTES = 4L << 20;

    private final Segment segment;
    private final Connection<T> left;
    private final Connection<T> right;

    private Pipe(boolean duplex, long bufferBytes) {
        long ringBytes = checkBufferBytes(bufferBytes);
        this.segment = Segment.create(null, PipeLayout.sizeOf(duplex, ringBytes), RingLayout.KIND_PIPE);
        MemorySegment memory = segment.data();
        memory.set(ValueLayout.JAVA_INT, PipeLayout.DUPLEX_OFFSET, duplex ? 1 : 0);
        for (int ring = 0; ring < (duplex ? 2 : 1); ring++) {
            MessageRing.initialize(memory, PipeLayout.ringOffset(ring, ringBytes), ringBytes, Integer.MAX_VALUE);
        }
        this.left = new Connection<>(segment, 0, this);
        this.right = new Connection<>(segment, 1, this);
        left.takeUp();
        right.takeUp();
    }

    /**
     * @param <T> the type of objects sent
     * @return a pipe whose ends both send and receive, each direction buffering {@link #DEFAULT_BUFFER_BYTES}
     */
    public static <T> Pipe<T> duplex() {
        return new Pipe<>(true, DEFAULT_BUFFER_BYTES);
    }

    /**
     * @param bufferBytes bytes each direction buffers (a power of two from 4 KiB to 1 GiB)
     * @param <T>         the type of objects sent
     * @return a pipe whose ends both send and receive
     * @throws IllegalArgumentException when {@code bufferBytes} is not such a power of two
     */
    public static <T> Pipe<T> duplex(long bufferBytes) {
        return new Pipe<>(true, bufferBytes);
    }

    /**
     * @param <T> the type of objects sent
     * @return a pipe from {@link #right()} (sends) to {@link #left()} (receives), buffering
     *     {@link #DEFAULT_BUFFER_BYTES}, exactly as one direction of a duplex pipe
     */
    public static <T> Pipe<T> oneWay() {
        return new Pipe<>(false, DEFAULT_BUFFER_BYTES);
    }

    /**
     * @param bufferBytes bytes the pipe buffers (a power of two from 4 KiB to 1 GiB)
     * @param <T>         the type of objects sent
     * @return a pipe from {@link #right()} (sends) to {@link #left()} (receives)
     * @throws IllegalArgumentException when {@code bufferBytes} is not such a power of two
     */
    public static <T> Pipe<T> oneWay(long bufferBytes) {
        return new Pipe<>(false, bufferBytes);
    }

    static long checkBufferBytes(long bufferBytes) {
        if (Long.bitCount(bufferBytes) != 1 || bufferBytes < RingLayout.MIN_RING_BYTES
                || bufferBytes > RingLayout.MAX_RING_BYTES) {
            throw new IllegalArgumentException("buffer size must be a power of two from " + RingLayout.MIN_RING_BYTES
                    + " to " + RingLayout.MAX_RING_BYTES + " bytes, was " + bufferBytes);
        }
        return bufferBytes;
    }

    /** @return end 0: sends and receives (duplex) or only receives (one-way) */
    public Connection<T> left() {
        return left;
    }

    /** @return end 1: sends and receives (duplex) or only sends (one-way) */
    public Connection<T> right() {
        return right;
    }

    /** @return the shared-memory name of this pipe */
    public String name() {
        return segment.name();
    }

    /** Closes both ends and removes the pipe's shared memory. Idempotent. */
    @Override
    public void close() {
        left.close();
        right.close();
    }

    /** Called by an end of this process's pipe after it closed: the last one removes the memory. */
    synchronized void endClosed() {
        if (!segment.isClosed() && left.isClosed() && right.isClosed()) {
            segment.close();
        }
    }

    @Override
    public String toString() {
        return "Pipe[" + segment.name() + "]";
    }
}
