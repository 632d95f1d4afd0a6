package io.multiproc4j.internal.transport;

/**
 * The byte layout of every message between a pool and a worker JVM, drawn once. Each message is
 * one {@link FrameChannel} frame (int length, code byte = {@link FrameType} ordinal, payload);
 * {@link WorkerMessage}'s records write and read exactly these fields, big-endian, on both ends.
 * {@code bytes} is an int length (-1 for none) then that many bytes; {@code utf} is
 * {@link java.io.DataOutput#writeUTF}.
 *
 * <pre>
 *  worker ─► parent
 *   HELLO        bytes key (32, proves the worker) │ long pid                   (supervision handshake)
 *   READY        (empty)                            the initializer ran
 *   INIT_FAILED  bytes failure                      the initializer threw; the worker exits
 *   RESULTS      long batch │ int offset │ bytes results (the codec's List)
 *   FAILED       long batch │ int offset │ bytes failure (RemoteFailure)
 *   RETIRING     (empty)                            past its memory limit between batches: it
 *                                                   started nothing it still holds, and exits
 *   RECALLED     long batch │ boolean taken back    answer to RECALL
 *   DOORBELL     (empty)                            with rings: a record was committed in the result
 *                                                   ring while the pool's reader was flagged asleep
 *
 *  parent ─► worker
 *   SETUP        utf codec class │ utf worker name │ boolean stream results │ long memory limit
 *                │ bytes initializer │ utf rings (the segment of WorkerRings, "" = the socket alone)
 *   BATCH        long batch │ long function id │ bytes function (absent when the worker holds it)
 *                │ long function id to forget (-1 none) │ bytes inputs (the codec's List)
 *   SHUTDOWN     (empty)                            finish what is queued, then exit
 *   RECALL       long batch                         give back this batch if it has not started
 * </pre>
 *
 * <h2>Which path</h2>
 * When SETUP names rings ({@link WorkerRings}), BATCH and SHUTDOWN go through the request ring and
 * READY, INIT_FAILED, RESULTS, FAILED and RETIRING through the result ring ({@link ShmRing}: the same
 * code and payload as a frame, in records); HELLO, SETUP, RECALL, RECALLED and DOORBELL stay on the
 * socket (the pool wakes a sleeping worker with a byte in a FIFO instead, see {@link WorkerRings}).
 * Each ring keeps its records in write order, which is all the function table needs: every BATCH
 * takes the same path.
 *
 * <h2>Order</h2>
 * Frames are read in the order they were written. The function table of a worker follows from
 * that: the parent decides at assignment what the worker holds, sends a function's bytes the
 * first time and names one to forget when its bounded record evicts it. A batch taken back by
 * RECALL is always the last one the parent sent that worker, and the parent sends it nothing
 * more until RECALLED arrives, so the function it carried is simply forgotten on both sides.
 */
public final class WorkerLayout {
    /** The most functions a worker keeps decoded. */
    public static final int FUNCTIONS_PER_WORKER = 64;
    /** The length of a worker's one-time key, in bytes. */
    public static final int KEY_BYTES = 32;

    private WorkerLayout() {}
}
