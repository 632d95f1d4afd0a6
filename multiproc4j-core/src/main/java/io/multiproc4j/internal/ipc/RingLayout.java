package io.multiproc4j.internal.ipc;

import io.multiproc4j.internal.shm.LockLayout;

/**
 * One message ring in shared memory (see {@link MessageRing}): a control block, a robust lock, and
 * a power-of-two byte ring of framed records. A queue segment holds one ring; a pipe segment holds
 * one ring per direction after its {@link PipeLayout} header.
 *
 * <pre>
 *  ring base + 0
 *  0               8               16      20      24      28      32      36      40
 *  +---------------+---------------+-------+-------+-------+-------+-------+-------+
 *  |   head pos    |   tail pos    | count | cap   |notEmpt|nE wait|notFull|nF wait|
 *  +---------------+---------------+-------+-------+-------+-------+-------+-------+
 *  40      44      48      52      56              64              72              80
 *  +-------+-------+-------+-------+---------------+---------------+---------------+
 *  | state | puts  |  pad  | done  |  ring bytes   |  owner pid    |  owner start  |
 *  +-------+-------+-------+-------+---------------+---------------+---------------+
 *  80              88      92
 *  +---------------+-------+
 *  | pending tail  |pend pt|
 *  +---------------+-------+
 *  128: lock (LockLayout.SIZE bytes, rounded up to 64)
 *  DATA: ring bytes of records, indexed by pos &amp; (ring bytes - 1)
 * </pre>
 *
 * <ul>
 *   <li><b>head pos / tail pos</b>: byte positions that only grow (never wrap: 2^63 bytes is
 *       centuries of traffic). Records live in {@code [head, tail)}. Each is changed by one
 *       store under the lock, and that store is the commit point of a take or a put.</li>
 *   <li><b>count</b>: live records (tombstones excluded). Derived data: a lock holder that took
 *       over from a dead one recounts it by walking {@code [head, tail)}.</li>
 *   <li><b>cap</b>: the most live records (a queue's capacity; {@code Integer.MAX_VALUE} for pipes).</li>
 *   <li><b>notEmpty / notFull</b>: futex words, sequence numbers bumped after every put (take);
 *       a waiter reads the number under the lock and sleeps while it is unchanged, so a put
 *       between its unlock and its sleep is never missed. <b>nE wait / nF wait</b> count sleepers
 *       so that a put wakes only when someone sleeps.</li>
 *   <li><b>state</b>: {@link #OPEN}, {@link #SHUTDOWN} (no puts; takes drain, then fail) or
 *       {@link #SHUTDOWN_IMMEDIATE} (no puts, no takes; records were dropped).</li>
 *   <li><b>puts / done</b>: a joinable queue's counts of puts (changed under the lock only) and
 *       of {@code taskDone()} calls (compare-and-set, no lock; the futex word {@code join()} sleeps
 *       on, woken when it reaches puts). Unfinished tasks are {@code puts - done}, in int
 *       arithmetic, so both may wrap.</li>
 *   <li><b>pending tail / pend pt</b>: a joinable put's intent, written before its commit and
 *       cleared after its count: the tail its commit stores and the puts count that goes with it
 *       (pending tail 0: none). A locker that takes over from a dead holder sets puts to the
 *       intended count exactly when the tail shows the commit happened.</li>
 *   <li><b>ring bytes</b>: the size of the data ring, a power of two.</li>
 *   <li><b>owner pid / start</b>: the ring's creator; spill files carry it so that they are
 *       cleaned exactly when the ring's creator is dead.</li>
 * </ul>
 *
 * <h2>Records</h2>
 * <pre>
 *  pos (a multiple of 8)
 *  +-------+-------+------------------------------------------+- - - - -+
 *  |length | type  | payload (length bytes, may wrap to 0)    | pad to 8|
 *  +-------+-------+------------------------------------------+- - - - -+
 * </pre>
 * The 8-byte header never wraps (positions and the ring size are multiples of 8); a payload that
 * reaches the end of the ring continues at offset 0. The type is {@link #TYPE_OBJECT} (an encoded
 * object) or {@link #TYPE_BYTES} (raw bytes), optionally or-ed with {@link #SPILLED}: then the
 * payload is {@code [long length][UTF-8 spill file name]} and the message itself is in a spill
 * file (see {@link SpillFiles}). {@link #TYPE_TOMBSTONE} marks a record removed from the middle
 * ({@code remove(Object)}): takes skip it.
 */
public final class RingLayout {
    public static final long HEAD_OFFSET = 0;
    public static final long TAIL_OFFSET = 8;
    public static final long COUNT_OFFSET = 16;
    public static final long CAPACITY_OFFSET = 20;
    public static final long NOT_EMPTY_OFFSET = 24;
    public static final long NOT_EMPTY_WAITERS_OFFSET = 28;
    public static final long NOT_FULL_OFFSET = 32;
    public static final long NOT_FULL_WAITERS_OFFSET = 36;
    public static final long STATE_OFFSET = 40;
    public static final long PUTS_OFFSET = 44;
    public static final long DONE_OFFSET = 52;
    public static final long RING_BYTES_OFFSET = 56;
    public static final long OWNER_PID_OFFSET = 64;
    public static final long OWNER_START_OFFSET = 72;
    public static final long PENDING_TAIL_OFFSET = 80;
    public static final long PENDING_PUTS_OFFSET = 88;
    /** Where the lock starts. */
    public static final long LOCK_OFFSET = 128;
    /** Where the data ring starts. */
    public static final long DATA_OFFSET = LOCK_OFFSET + ((LockLayout.SIZE + 63) & ~63L);

    /** Record header bytes: length and type. */
    public static final int RECORD_HEADER = 8;

    public static final int TYPE_OBJECT = 1;
    public static final int TYPE_BYTES = 2;
    public static final int TYPE_TOMBSTONE = 3;
    /** Or-ed into the type when the payload names a spill file. */
    public static final int SPILLED = 0x100;

    public static final int OPEN = 0;
    public static final int SHUTDOWN = 1;
    public static final int SHUTDOWN_IMMEDIATE = 2;

    /** Segment kind of a queue ({@code SegmentLayout} kinds 0..19 belong to {@code shared}/{@code sync}). */
    public static final int KIND_QUEUE = 20;
    /** Segment kind of a joinable queue. */
    public static final int KIND_JOINABLE_QUEUE = 21;
    /** Segment kind of a pipe. */
    public static final int KIND_PIPE = 22;
    /** Kind written in a spill file's header. */
    public static final int KIND_SPILL = 23;

    /** Smallest data ring. */
    public static final long MIN_RING_BYTES = 4096;
    /** Largest data ring. */
    public static final long MAX_RING_BYTES = 1L << 30;

    private RingLayout() {}

    /**
     * @param ringBytes the data ring size (a power of two)
     * @return bytes one ring takes, control block and lock included
     */
    public static long sizeOf(long ringBytes) {
        return DATA_OFFSET + ringBytes;
    }

    /**
     * @param payloadLength payload bytes
     * @return bytes the record takes in the ring
     */
    public static long recordSize(long payloadLength) {
        return (RECORD_HEADER + payloadLength + 7) & ~7L;
    }
}
