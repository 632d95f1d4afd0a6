package io.multiproc4j.internal.ipc;

import static io.multiproc4j.internal.ipc.RingLayout.*;

import io.multiproc4j.internal.shm.Futex;
import io.multiproc4j.internal.shm.ProcessIdentity;
import io.multiproc4j.internal.shm.RobustMutex;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

/**
 * A bounded, multi-producer, multi-consumer queue of variable-length messages in shared memory:
 * the engine under {@code ProcessQueue}, {@code JoinableProcessQueue} and each direction of a
 * {@code Pipe}. Layout: {@link RingLayout}.
 *
 * <pre>
 *  put(bytes)                                         take()
 *   │ too big for the ring? ─► spill file              │
 *   ▼                                                  ▼
 *  lock ─► room? ─no─► read notFull, unlock, sleep    lock ─► live record? ─no─► read notEmpty, unlock, sleep
 *   │ yes                                               │ yes (tombstones skipped)
 *  write record at tail ─► tail := new (COMMIT)       copy record out ─► head := new (COMMIT)
 *  count++, notEmpty++ ─► unlock ─► wake a taker      count--, notFull++ ─► unlock ─► wake a putter
 *                                                      spilled? read the file, delete it
 * </pre>
 *
 * <h2>Concurrency</h2>
 * Every change to the ring happens under one {@link RobustMutex}; a critical section is a bounded
 * copy (messages larger than a quarter of the ring go to a spill file before the lock is taken).
 * Items of one producer therefore stay in order, and so do the items of one pipe direction.
 * Blocking is futex-based: a waiter reads the sequence word <em>under the lock</em>, registers as
 * a sleeper, unlocks and sleeps while the word is unchanged. A put can only happen after that
 * unlock and bumps the word, so the kernel's compare-and-sleep never misses it. A taker that
 * finds the ring empty first spins briefly ({@value #TAKE_SPIN_NANOS} ns) on {@code count} without
 * the lock: a hand-off between two busy processes then costs no system call. A taker may take
 * several messages under one lock ({@link #take(int, long, long, WaitCheck)}; pipe ends do, queues
 * do not, since other consumers must be able to get the rest).
 *
 * <h2>Crash handling</h2>
 * A put or take becomes visible by exactly one store (tail or head) made while holding the lock.
 * A process SIGKILLed anywhere before that store leaves a half-written record <em>beyond</em>
 * the tail (never read, overwritten by the next put) or an untouched record at the head (still
 * there for the next taker): no half-written record can wedge the ring. The lock itself is robust:
 * the next locker takes it over from the dead holder ({@link RobustMutex}) and then recounts
 * {@code count}, the one field derived from the others, by walking {@code [head, tail)}. A process
 * killed after its commit simply completed its put or take (a taken message dies with its taker).
 * A joinable put also counts itself ({@code puts}) after its commit; it records its intent first
 * (the tail it will store and the count that goes with it), so the locker that takes over sets the
 * count exactly when the tail shows the commit ({@code repairPutCount}). {@code taskDone()} counts
 * apart ({@code done}, compare-and-set, no lock), so the two never race. A timed put or take gives
 * up on the lock at its deadline, and a dead holder is taken over at that deadline at the latest
 * ({@link RobustMutex}), so a timed call never overruns its limit because its holder died.
 * Sleepers of a dead process stay counted: that costs needless wake calls, nothing else
 * (racy, but benign). Waits are sliced ({@link Futex#SLICE_NANOS}), so an interrupt or a
 * {@link WaitCheck} (a pipe's "is my peer still alive?") is noticed within a slice.
 *
 * <h2>States</h2>
 * OPEN → SHUTDOWN (puts fail; takes drain what is left, then fail) → SHUTDOWN_IMMEDIATE (puts and
 * takes fail; what was left is dropped). OPEN → SHUTDOWN_IMMEDIATE directly. Never back.
 * Each transition wakes every sleeper, and sleepers re-read the state.
 */
public final class MessageRing {
    private static final VarHandle INT = ValueLayout.JAVA_INT.varHandle();
    private static final VarHandle LONG = ValueLayout.JAVA_LONG.varHandle();
    /**
     * How long a taker that found the ring empty re-reads {@code count} without the lock before it
     * sleeps: a producer in the middle of a burst refills it within microseconds, and a take that
     * does not sleep spares the producer a wake system call.
     */
    private static final long TAKE_SPIN_NANOS = 50_000;

    private final MemorySegment memory;
    private final long base;
    private final long data;
    private final long ringBytes;
    private final long mask;
    private final long spillThreshold;
    private final RobustMutex mutex;
    private final String segmentName;
    private final String description;
    private final boolean joinable;

    /**
     * Writes a fresh, empty ring; the creator calls it before anyone else can see the memory.
     *
     * @param memory    the segment's data
     * @param base      the ring's offset in it
     * @param ringBytes data ring size, a power of two in [{@link RingLayout#MIN_RING_BYTES},
     *                  {@link RingLayout#MAX_RING_BYTES}]
     * @param capacity  most live records
     */
    public static void initialize(MemorySegment memory, long base, long ringBytes, int capacity) {
        memory.set(ValueLayout.JAVA_INT, base + CAPACITY_OFFSET, capacity);
        memory.set(ValueLayout.JAVA_LONG, base + RING_BYTES_OFFSET, ringBytes);
        memory.set(ValueLayout.JAVA_LONG, base + OWNER_PID_OFFSET, ProcessIdentity.PID);
        LONG.setVolatile(memory, base + OWNER_START_OFFSET, ProcessIdentity.START_TIME);
    }

    /**
     * @param memory      the segment's data (already initialised by its creator)
     * @param base        the ring's offset in it
     * @param segmentName the segment's name (spill files are named after it)
     * @param description names the ring in error messages
     * @param joinable    whether puts count unfinished tasks
     */
    public MessageRing(MemorySegment memory, long base, String segmentName, String description, boolean joinable) {
        this.memory = memory;
        this.base = base;
        this.data = base + DATA_OFFSET;
        this.ringBytes = memory.get(ValueLayout.JAVA_LONG, base + RING_BYTES_OFFSET);
        if (Long.bitCount(ringBytes) != 1 || ringBytes < MIN_RING_BYTES || memory.byteSize() < base + sizeOf(ringBytes)) {
            throw new IllegalStateException(description + ": corrupt ring header (ring bytes " + ringBytes + ")");
        }
        this.mask = ringBytes - 1;
        this.spillThreshold = ringBytes / 4;
        this.mutex = new RobustMutex(memory, base + LOCK_OFFSET, false, description + "'s lock");
        this.segmentName = segmentName;
        this.description = description;
        this.joinable = joinable;
    }

    /**
     * A message taken from the ring.
     *
     * @param type  {@link RingLayout#TYPE_OBJECT} or {@link RingLayout#TYPE_BYTES}
     * @param bytes the whole message
     */
    public record Message(int type, byte[] bytes) {}

    /** Thrown by puts and takes that the ring's state refuses. */
    public static final class ClosedException extends RuntimeException {
        private static final long serialVersionUID = 1L;
        private final int state;

        ClosedException(int state, String message) {
            super(message, null, false, false);
            this.state = state;
        }

        /** @return {@link RingLayout#SHUTDOWN} or {@link RingLayout#SHUTDOWN_IMMEDIATE} */
        public int state() {
            return state;
        }
    }

    /** Run about once per wait slice while a put or take sleeps; may throw to end the wait. */
    @FunctionalInterface
    public interface WaitCheck {
        /** Checks; throws to stop waiting. */
        void check();
    }

    /** A check that never objects. */
    public static final WaitCheck NO_CHECK = () -> { };

    // ------------------------------------------------------------------------------------ put

    /**
     * Appends one message.
     *
     * @param type         {@link RingLayout#TYPE_OBJECT} or {@link RingLayout#TYPE_BYTES}
     * @param bytes        the message
     * @param offset       where it starts
     * @param length       its length
     * @param timeoutNanos 0: do not wait; negative: wait as long as it takes; else the most to wait
     * @param check        run while sleeping
     * @return whether it was appended (false: the ring stayed full until the timeout)
     * @throws InterruptedException when interrupted while waiting (nothing was appended)
     * @throws ClosedException      when the ring is shut down
     */
    public boolean put(int type, byte[] bytes, int offset, int length, long timeoutNanos, WaitCheck check)
            throws InterruptedException {
        if (timeoutNanos != 0 && Thread.interrupted()) {
            throw new InterruptedException();
        }
        checkState();
        byte[] payload = bytes;
        int payloadOffset = offset;
        int payloadLength = length;
        String spill = null;
        int recordType = type;
        if (recordSize(length) > spillThreshold) {
            spill = SpillFiles.write(segmentName, ownerPid(), ownerStart(), bytes, offset, length);
            payload = spillReference(length, spill);
            payloadOffset = 0;
            payloadLength = payload.length;
            recordType |= SPILLED;
        }
        boolean appended = false;
        try {
            appended = append(recordType, payload, payloadOffset, payloadLength, timeoutNanos, check);
            return appended;
        } finally {
            if (!appended && spill != null) {
                SpillFiles.deleteQuietly(spill);
            }
        }
    }

    private boolean append(int type, byte[] payload, int offset, int length, long timeoutNanos, WaitCheck check)
            throws InterruptedException {
        long need = recordSize(length);
        long deadline = deadline(timeoutNanos);
        long lockDeadline = timeoutNanos > 0 ? deadline : Long.MAX_VALUE;
        long lastCheck = System.nanoTime();
        for (;;) {
            int seen;
            boolean appended;
            if (!lock(lockDeadline)) {
                return false; // the limit passed while another process held the lock
            }
            try {
                int state = state();
                if (state != OPEN) {
                    throw closed(state, true);
                }
                long head = (long) LONG.getVolatile(memory, base + HEAD_OFFSET);
                long tail = (long) LONG.getVolatile(memory, base + TAIL_OFFSET);
                int count = (int) INT.getVolatile(memory, base + COUNT_OFFSET);
                if (count < capacity() && ringBytes - (tail - head) >= need) {
                    writeRecord(tail, type, payload, offset, length);
                    int puts = 0;
                    if (joinable) {
                        // The put's intent, so that a locker taking over from this process if it dies
                        // right after the commit knows whether the put was counted (see repairPutCount).
                        puts = (int) INT.getAcquire(memory, base + PUTS_OFFSET) + 1;
                        INT.setRelease(memory, base + PENDING_PUTS_OFFSET, puts);
                        LONG.setRelease(memory, base + PENDING_TAIL_OFFSET, tail + need);
                    }
                    LONG.setRelease(memory, base + TAIL_OFFSET, tail + need); // the commit
                    INT.setRelease(memory, base + COUNT_OFFSET, count + 1);
                    if (joinable) {
                        INT.setRelease(memory, base + PUTS_OFFSET, puts);
                        LONG.setRelease(memory, base + PENDING_TAIL_OFFSET, 0L);
                    }
                    bump(NOT_EMPTY_OFFSET);
                    appended = true;
                    seen = 0;
                } else {
                    appended = false;
                    if (timeoutNanos == 0) {
                        return false;
                    }
                    seen = (int) INT.getVolatile(memory, base + NOT_FULL_OFFSET);
                    INT.getAndAdd(memory, base + NOT_FULL_WAITERS_OFFSET, 1);
                }
            } finally {
                unlock();
            }
            if (appended) {
                if ((int) INT.getVolatile(memory, base + NOT_EMPTY_WAITERS_OFFSET) > 0) {
                    Futex.wake(memory, base + NOT_EMPTY_OFFSET, 1);
                }
                return true;
            }
            try {
                long remaining = deadline - System.nanoTime();
                if (remaining <= 0) {
                    passOnWake(NOT_FULL_OFFSET, NOT_FULL_WAITERS_OFFSET);
                    return false;
                }
                Futex.await(memory, base + NOT_FULL_OFFSET, seen, remaining);
            } finally {
                INT.getAndAdd(memory, base + NOT_FULL_WAITERS_OFFSET, -1);
            }
            lastCheck = afterWait(check, lastCheck, NOT_FULL_OFFSET, NOT_FULL_WAITERS_OFFSET);
        }
    }

    // ------------------------------------------------------------------------------------ take

    /**
     * Takes the oldest message.
     *
     * @param timeoutNanos 0: do not wait; negative: wait as long as it takes; else the most to wait
     * @param check        run while sleeping
     * @return the message, or null when none came before the timeout
     * @throws InterruptedException when interrupted while waiting (nothing was taken)
     * @throws ClosedException      when the ring is shut down and empty
     */
    public Message take(long timeoutNanos, WaitCheck check) throws InterruptedException {
        List<Message> taken = take(1, 0, timeoutNanos, check);
        return taken.isEmpty() ? null : taken.get(0);
    }

    /**
     * Takes the oldest message and, while the lock is held anyway, up to {@code max - 1} more that
     * are already there, as long as their bytes stay under {@code maxBytes}.
     *
     * @param max          the most messages to take, {@code >= 1}
     * @param maxBytes     stop adding messages once this many bytes were taken
     * @param timeoutNanos 0: do not wait; negative: wait as long as it takes; else the most to wait
     * @param check        run while sleeping
     * @return the messages, oldest first; empty when none came before the timeout
     * @throws InterruptedException when interrupted while waiting (nothing was taken)
     * @throws ClosedException      when the ring is shut down and empty
     */
    public List<Message> take(int max, long maxBytes, long timeoutNanos, WaitCheck check) throws InterruptedException {
        if (timeoutNanos != 0 && Thread.interrupted()) {
            throw new InterruptedException();
        }
        long deadline = deadline(timeoutNanos);
        long lockDeadline = timeoutNanos > 0 ? deadline : Long.MAX_VALUE;
        long lastCheck = System.nanoTime();
        boolean spun = false;
        for (;;) {
            List<Message> taken = null;
            int seen = 0;
            boolean sleep = false;
            if (!lock(lockDeadline)) {
                return List.of(); // the limit passed while another process held the lock
            }
            try {
                if ((int) INT.getVolatile(memory, base + COUNT_OFFSET) > 0) {
                    Message first = takeLocked();
                    if (max == 1) {
                        taken = List.of(first);
                    } else {
                        taken = new ArrayList<>();
                        taken.add(first);
                        long bytes = first.bytes().length;
                        while (taken.size() < max && bytes < maxBytes
                                && (int) INT.getVolatile(memory, base + COUNT_OFFSET) > 0) {
                            Message next = takeLocked();
                            taken.add(next);
                            bytes += next.bytes().length;
                        }
                    }
                } else {
                    int state = state();
                    if (state != OPEN) {
                        throw closed(state, false);
                    }
                    if (timeoutNanos == 0) {
                        return List.of();
                    }
                    if (spun) {
                        seen = (int) INT.getVolatile(memory, base + NOT_EMPTY_OFFSET);
                        INT.getAndAdd(memory, base + NOT_EMPTY_WAITERS_OFFSET, 1);
                        sleep = true;
                    }
                }
            } finally {
                unlock();
            }
            if (taken != null) {
                afterTake(taken.size());
                return resolveAll(taken);
            }
            if (!sleep) {
                spun = true;
                spinUntilNotEmpty();
                continue;
            }
            try {
                long remaining = deadline - System.nanoTime();
                if (remaining <= 0) {
                    passOnWake(NOT_EMPTY_OFFSET, NOT_EMPTY_WAITERS_OFFSET);
                    return List.of();
                }
                Futex.await(memory, base + NOT_EMPTY_OFFSET, seen, remaining);
            } finally {
                INT.getAndAdd(memory, base + NOT_EMPTY_WAITERS_OFFSET, -1);
            }
            lastCheck = afterWait(check, lastCheck, NOT_EMPTY_OFFSET, NOT_EMPTY_WAITERS_OFFSET);
        }
    }

    private List<Message> resolveAll(List<Message> taken) {
        if (taken.size() == 1) {
            return List.of(resolve(taken.get(0), true));
        }
        List<Message> resolved = new ArrayList<>(taken.size());
        for (Message message : taken) {
            resolved.add(resolve(message, true));
        }
        return resolved;
    }

    private void spinUntilNotEmpty() {
        long start = System.nanoTime();
        for (int i = 1; ; i++) {
            if ((int) INT.getVolatile(memory, base + COUNT_OFFSET) > 0 || state() != OPEN) {
                return;
            }
            if ((i & 63) == 0 && System.nanoTime() - start > TAKE_SPIN_NANOS) {
                return;
            }
            Thread.onSpinWait();
        }
    }

    /**
     * Takes up to {@code max} messages without waiting.
     *
     * @param max the most to take
     * @return the messages, oldest first
     */
    public List<Message> drain(int max) {
        List<Message> taken = new ArrayList<>();
        lock();
        try {
            while (taken.size() < max && (int) INT.getVolatile(memory, base + COUNT_OFFSET) > 0) {
                taken.add(takeLocked());
            }
        } finally {
            unlock();
        }
        if (taken.isEmpty()) {
            return taken;
        }
        afterTake(taken.size());
        return resolveAll(taken);
    }

    /** @return the oldest message without taking it, or null when empty */
    public Message peek() {
        lock();
        try {
            skipTombstones();
            long head = (long) LONG.getVolatile(memory, base + HEAD_OFFSET);
            long tail = (long) LONG.getVolatile(memory, base + TAIL_OFFSET);
            return head == tail ? null : resolve(readRecord(head), false);
        } finally {
            unlock();
        }
    }

    /** @return every live message, oldest first, as of one moment */
    public List<Message> snapshot() {
        List<Message> all = new ArrayList<>();
        lock();
        try {
            long tail = (long) LONG.getVolatile(memory, base + TAIL_OFFSET);
            for (long pos = (long) LONG.getVolatile(memory, base + HEAD_OFFSET); pos != tail; pos = next(pos)) {
                if (typeAt(pos) != TYPE_TOMBSTONE) {
                    all.add(resolve(readRecord(pos), false));
                }
            }
        } finally {
            unlock();
        }
        return all;
    }

    /**
     * Removes the oldest live message that {@code matches} accepts, leaving a tombstone.
     *
     * @param matches tests a message (run under the lock: keep it short)
     * @return whether one was removed
     */
    public boolean removeFirst(Predicate<Message> matches) {
        String spill = null;
        boolean removed = false;
        lock();
        try {
            long tail = (long) LONG.getVolatile(memory, base + TAIL_OFFSET);
            for (long pos = (long) LONG.getVolatile(memory, base + HEAD_OFFSET); pos != tail; pos = next(pos)) {
                int type = typeAt(pos);
                if (type == TYPE_TOMBSTONE) {
                    continue;
                }
                Message record = readRecord(pos);
                if (matches.test(resolve(record, false))) {
                    // One store removes it: a crash after it leaves count one too high, fixed by the recount.
                    INT.setRelease(memory, data + (pos & mask) + 4, TYPE_TOMBSTONE);
                    INT.setRelease(memory, base + COUNT_OFFSET, (int) INT.getAcquire(memory, base + COUNT_OFFSET) - 1);
                    bump(NOT_FULL_OFFSET);
                    if ((type & SPILLED) != 0) {
                        spill = spillName(record.bytes());
                    }
                    removed = true;
                    break;
                }
            }
        } finally {
            unlock();
        }
        if (removed) {
            afterTake(1);
        }
        if (spill != null) {
            SpillFiles.deleteQuietly(spill);
        }
        return removed;
    }

    private Message takeLocked() {
        skipTombstones();
        long head = (long) LONG.getVolatile(memory, base + HEAD_OFFSET);
        Message record = readRecord(head);
        LONG.setRelease(memory, base + HEAD_OFFSET, next(head)); // the commit
        INT.setRelease(memory, base + COUNT_OFFSET, (int) INT.getAcquire(memory, base + COUNT_OFFSET) - 1);
        bump(NOT_FULL_OFFSET);
        return record;
    }

    /*
     * Every store to the ring's words except the sleeper counts and the unfinished count is made
     * while holding the lock, so a release store suffices (a plain MOV on x86-64): the lock's release
     * (a full-fence getAndSet) publishes them together, and lock-free readers (countHint(), the takers'
     * spin) read them with getVolatile/getAcquire and only use them as hints.
     */
    private void bump(long word) {
        INT.setRelease(memory, base + word, (int) INT.getAcquire(memory, base + word) + 1);
    }

    private void afterTake(int taken) {
        if ((int) INT.getVolatile(memory, base + NOT_FULL_WAITERS_OFFSET) > 0) {
            Futex.wake(memory, base + NOT_FULL_OFFSET, taken);
        }
    }

    private void skipTombstones() {
        long head = (long) LONG.getVolatile(memory, base + HEAD_OFFSET);
        long tail = (long) LONG.getVolatile(memory, base + TAIL_OFFSET);
        while (head != tail && typeAt(head) == TYPE_TOMBSTONE) {
            head = next(head);
            LONG.setVolatile(memory, base + HEAD_OFFSET, head);
        }
    }

    // ------------------------------------------------------------------------------------ state

    /**
     * Shuts the ring down (idempotent; immediate wins over drain).
     *
     * @param immediate whether to drop what is left (takes fail at once) rather than let takers drain it
     * @return how many messages were dropped
     */
    public int shutdown(boolean immediate) {
        List<String> spills = new ArrayList<>();
        int dropped = 0;
        lock();
        try {
            if (immediate) {
                long tail = (long) LONG.getVolatile(memory, base + TAIL_OFFSET);
                for (long pos = (long) LONG.getVolatile(memory, base + HEAD_OFFSET); pos != tail; pos = next(pos)) {
                    int type = typeAt(pos);
                    if (type != TYPE_TOMBSTONE) {
                        dropped++;
                        if ((type & SPILLED) != 0) {
                            spills.add(spillName(readRecord(pos).bytes()));
                        }
                    }
                }
                LONG.setVolatile(memory, base + HEAD_OFFSET, tail);
                INT.setVolatile(memory, base + COUNT_OFFSET, 0);
                INT.setVolatile(memory, base + STATE_OFFSET, SHUTDOWN_IMMEDIATE);
                if (joinable && dropped > 0) {
                    finishTasks(dropped);
                }
            } else if (state() == OPEN) {
                INT.setVolatile(memory, base + STATE_OFFSET, SHUTDOWN);
            }
            INT.getAndAdd(memory, base + NOT_EMPTY_OFFSET, 1);
            INT.getAndAdd(memory, base + NOT_FULL_OFFSET, 1);
        } finally {
            unlock();
        }
        Futex.wake(memory, base + NOT_EMPTY_OFFSET, Integer.MAX_VALUE);
        Futex.wake(memory, base + NOT_FULL_OFFSET, Integer.MAX_VALUE);
        spills.forEach(SpillFiles::deleteQuietly);
        return dropped;
    }

    /** @return {@link RingLayout#OPEN}, {@link RingLayout#SHUTDOWN} or {@link RingLayout#SHUTDOWN_IMMEDIATE} */
    public int state() {
        return (int) INT.getVolatile(memory, base + STATE_OFFSET);
    }

    /**
     * Counts live messages under the lock, as {@code ArrayBlockingQueue.size()} does. The lock is
     * what makes it exact after a crash: a taker SIGKILLed between its commit (the head store) and
     * its count store leaves {@code count} one high, and only the next locker's takeover recounts
     * it. A lock-free read would report that dead taker's message as still queued.
     *
     * @return live messages now
     */
    public int size() {
        lock();
        try {
            return countHint();
        } finally {
            unlock();
        }
    }

    /** @return {@code count} read without the lock: a hint for waits, one high after a taker's crash */
    private int countHint() {
        return Math.max(0, (int) INT.getVolatile(memory, base + COUNT_OFFSET));
    }

    /** @return threads (of all processes) registered as sleeping until a message comes; diagnostics and tests */
    public int sleepingTakers() {
        return (int) INT.getVolatile(memory, base + NOT_EMPTY_WAITERS_OFFSET);
    }

    /** @return the most live messages */
    public int capacity() {
        return memory.get(ValueLayout.JAVA_INT, base + CAPACITY_OFFSET);
    }

    /** @return the data ring's size in bytes */
    public long ringBytes() {
        return ringBytes;
    }

    /** @return the largest message stored inline; larger ones go through a spill file */
    public long inlineLimit() {
        return spillThreshold - RECORD_HEADER;
    }

    /**
     * Waits until a take would not block: a message is there, or the ring is shut down (the take
     * then throws). Takes nothing.
     *
     * @param timeoutNanos the most to wait (0: just look)
     * @param check        run while sleeping
     * @return whether a take would not block now
     * @throws InterruptedException when interrupted while waiting
     */
    public boolean awaitNotEmpty(long timeoutNanos, WaitCheck check) throws InterruptedException {
        long deadline = deadline(timeoutNanos);
        long lastCheck = System.nanoTime();
        for (;;) {
            int seen = (int) INT.getVolatile(memory, base + NOT_EMPTY_OFFSET);
            if (countHint() > 0) {
                return true;
            }
            if (state() != OPEN) {
                return true;
            }
            long remaining = deadline - System.nanoTime();
            if (remaining <= 0) {
                return false;
            }
            INT.getAndAdd(memory, base + NOT_EMPTY_WAITERS_OFFSET, 1);
            try {
                // The word was read before count: a put after that read changed it, and the wait returns.
                Futex.await(memory, base + NOT_EMPTY_OFFSET, seen, remaining);
                if (countHint() > 0) {
                    // This waiter only looks: the wake it may have consumed belongs to a taker.
                    passOnWake(NOT_EMPTY_OFFSET, NOT_EMPTY_WAITERS_OFFSET);
                }
            } finally {
                INT.getAndAdd(memory, base + NOT_EMPTY_WAITERS_OFFSET, -1);
            }
            lastCheck = afterWait(check, lastCheck, NOT_EMPTY_OFFSET, NOT_EMPTY_WAITERS_OFFSET);
        }
    }

    // ------------------------------------------------------------------------------------ joinable

    /** @return unfinished tasks (joinable rings): puts counted minus tasks done */
    public int unfinished() {
        // done is read first: it never passes puts, so the difference is never negative
        int done = (int) INT.getVolatile(memory, base + DONE_OFFSET);
        return (int) INT.getVolatile(memory, base + PUTS_OFFSET) - done;
    }

    /**
     * Marks one task done.
     *
     * @throws IllegalStateException when no task is unfinished
     */
    public void taskDone() {
        for (;;) {
            int done = (int) INT.getVolatile(memory, base + DONE_OFFSET);
            int puts = (int) INT.getVolatile(memory, base + PUTS_OFFSET);
            if (puts - done <= 0) {
                throw new IllegalStateException("taskDone() called more times than there were items put in "
                        + description + ": call it once per item taken, after processing it");
            }
            if (INT.compareAndSet(memory, base + DONE_OFFSET, done, done + 1)) {
                if (puts - done == 1) {
                    Futex.wake(memory, base + DONE_OFFSET, Integer.MAX_VALUE);
                }
                return;
            }
        }
    }

    private void finishTasks(int n) {
        for (;;) {
            int done = (int) INT.getVolatile(memory, base + DONE_OFFSET);
            int unfinished = (int) INT.getVolatile(memory, base + PUTS_OFFSET) - done;
            int finish = Math.min(n, Math.max(0, unfinished));
            if (INT.compareAndSet(memory, base + DONE_OFFSET, done, done + finish)) {
                if (finish == unfinished) {
                    Futex.wake(memory, base + DONE_OFFSET, Integer.MAX_VALUE);
                }
                return;
            }
        }
    }

    /**
     * Waits until every task put has been marked done.
     *
     * @param timeoutNanos the most to wait; negative: as long as it takes
     * @return whether none is unfinished
     * @throws InterruptedException when interrupted while waiting
     */
    public boolean join(long timeoutNanos) throws InterruptedException {
        long deadline = deadline(timeoutNanos);
        for (;;) {
            if (Thread.interrupted()) {
                throw new InterruptedException();
            }
            // done is the futex word: read it, then puts; a taskDone after the read changes it
            int done = (int) INT.getVolatile(memory, base + DONE_OFFSET);
            if ((int) INT.getVolatile(memory, base + PUTS_OFFSET) - done <= 0) {
                return true;
            }
            long remaining = deadline - System.nanoTime();
            if (remaining <= 0) {
                return false;
            }
            Futex.await(memory, base + DONE_OFFSET, done, remaining);
        }
    }

    // ------------------------------------------------------------------------------------ helpers

    private void checkState() {
        int state = state();
        if (state != OPEN) {
            throw closed(state, true);
        }
    }

    private ClosedException closed(int state, boolean putting) {
        String what = state == SHUTDOWN ? "shut down" : "shut down immediately";
        return new ClosedException(state, description + " is " + what + (putting ? ": nothing more can be put"
                : state == SHUTDOWN ? " and drained: nothing more can be taken" : ": its items were dropped"));
    }

    private long afterWait(WaitCheck check, long lastCheck, long word, long waiters) throws InterruptedException {
        if (Thread.interrupted()) {
            passOnWake(word, waiters);
            throw new InterruptedException();
        }
        long now = System.nanoTime();
        if (now - lastCheck >= Futex.SLICE_NANOS) {
            check.check();
            return now;
        }
        return lastCheck;
    }

    /**
     * A sleeper that leaves without acting may have consumed the one wake meant for the next sleeper:
     * pass it on, so that the next one does not wait a whole slice.
     */
    private void passOnWake(long word, long waiters) {
        if ((int) INT.getVolatile(memory, base + waiters) > 1) {
            Futex.wake(memory, base + word, 1);
        }
    }

    /**
     * Takes the lock for a timed put or take: gives up at {@code deadline} (a dead holder is taken
     * over at the deadline at the latest), so a timed call never overruns its limit because of it.
     *
     * @param deadline a {@link System#nanoTime()} value, or {@link Long#MAX_VALUE} to wait as long as it takes
     * @return whether the lock is held
     */
    private boolean lock(long deadline) {
        if (deadline == Long.MAX_VALUE) {
            lock();
            return true;
        }
        boolean acquired;
        try {
            acquired = mutex.acquire(Math.max(0, deadline - System.nanoTime()), false);
        } catch (InterruptedException impossible) {
            throw new AssertionError(impossible); // not interruptible
        }
        if (acquired && mutex.recoveredFromDeadHolder()) {
            recount();
        }
        return acquired;
    }

    private void lock() {
        boolean interrupted = false;
        for (;;) {
            try {
                mutex.acquire(-1, false);
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        if (mutex.recoveredFromDeadHolder()) {
            recount();
        }
    }

    private void unlock() {
        mutex.release();
    }

    /** After taking the lock over from a dead holder: {@code count} may be off by one; rebuild it. */
    private void recount() {
        long head = (long) LONG.getVolatile(memory, base + HEAD_OFFSET);
        long tail = (long) LONG.getVolatile(memory, base + TAIL_OFFSET);
        int live = 0;
        for (long pos = head; pos != tail; pos = next(pos)) {
            if (typeAt(pos) != TYPE_TOMBSTONE) {
                live++;
            }
        }
        INT.setVolatile(memory, base + COUNT_OFFSET, live);
        if (joinable) {
            repairPutCount();
        }
        // Wake everyone: the dead holder may have died between its commit and its wake call.
        INT.getAndAdd(memory, base + NOT_EMPTY_OFFSET, 1);
        INT.getAndAdd(memory, base + NOT_FULL_OFFSET, 1);
        Futex.wake(memory, base + NOT_EMPTY_OFFSET, Integer.MAX_VALUE);
        Futex.wake(memory, base + NOT_FULL_OFFSET, Integer.MAX_VALUE);
    }

    /**
     * A joinable put records its intent (the tail after its commit, and the put count after it)
     * before its commit, then counts the put and clears the intent. A put whose holder died with an
     * intent left is counted exactly when its commit happened: the count is set to the intended one
     * when the tail shows the commit, and left as it was when it does not. Both cases are exact,
     * whatever instruction the holder died at. Called under the lock, after a takeover.
     */
    private void repairPutCount() {
        long pendingTail = (long) LONG.getAcquire(memory, base + PENDING_TAIL_OFFSET);
        if (pendingTail == 0) {
            return;
        }
        long tail = (long) LONG.getAcquire(memory, base + TAIL_OFFSET);
        if (tail == pendingTail) {
            INT.setRelease(memory, base + PUTS_OFFSET, (int) INT.getAcquire(memory, base + PENDING_PUTS_OFFSET));
        }
        LONG.setRelease(memory, base + PENDING_TAIL_OFFSET, 0L);
    }

    private static long deadline(long timeoutNanos) {
        if (timeoutNanos < 0) {
            return Long.MAX_VALUE;
        }
        long now = System.nanoTime();
        long deadline = now + timeoutNanos;
        return deadline < now ? Long.MAX_VALUE : deadline;
    }

    private long ownerPid() {
        return memory.get(ValueLayout.JAVA_LONG, base + OWNER_PID_OFFSET);
    }

    private long ownerStart() {
        return memory.get(ValueLayout.JAVA_LONG, base + OWNER_START_OFFSET);
    }

    private int typeAt(long pos) {
        return memory.get(ValueLayout.JAVA_INT, data + (pos & mask) + 4);
    }

    private long next(long pos) {
        return pos + recordSize(memory.get(ValueLayout.JAVA_INT, data + (pos & mask)));
    }

    private void writeRecord(long pos, int type, byte[] payload, int offset, int length) {
        long index = pos & mask;
        memory.set(ValueLayout.JAVA_INT, data + index, length);
        memory.set(ValueLayout.JAVA_INT, data + index + 4, type);
        long at = (index + RECORD_HEADER) & mask;
        int first = (int) Math.min(length, ringBytes - at);
        MemorySegment.copy(payload, offset, memory, ValueLayout.JAVA_BYTE, data + at, first);
        if (first < length) {
            MemorySegment.copy(payload, offset + first, memory, ValueLayout.JAVA_BYTE, data, length - first);
        }
    }

    private Message readRecord(long pos) {
        long index = pos & mask;
        int length = memory.get(ValueLayout.JAVA_INT, data + index);
        int type = memory.get(ValueLayout.JAVA_INT, data + index + 4);
        if (length < 0 || recordSize(length) > ringBytes) {
            throw new IllegalStateException(description + ": corrupt record at position " + pos + " (length "
                    + length + ")");
        }
        byte[] bytes = new byte[length];
        long at = (index + RECORD_HEADER) & mask;
        int first = (int) Math.min(length, ringBytes - at);
        MemorySegment.copy(memory, ValueLayout.JAVA_BYTE, data + at, bytes, 0, first);
        if (first < length) {
            MemorySegment.copy(memory, ValueLayout.JAVA_BYTE, data, bytes, first, length - first);
        }
        return new Message(type, bytes);
    }

    private Message resolve(Message record, boolean consume) {
        if ((record.type() & SPILLED) == 0) {
            return record;
        }
        ByteBuffer ref = ByteBuffer.wrap(record.bytes()).order(ByteOrder.LITTLE_ENDIAN);
        int length = (int) ref.getLong();
        String name = new String(record.bytes(), 8, record.bytes().length - 8, StandardCharsets.UTF_8);
        try {
            return new Message(record.type() & ~SPILLED, SpillFiles.read(name, length));
        } finally {
            if (consume) {
                SpillFiles.deleteQuietly(name);
            }
        }
    }

    private static byte[] spillReference(int length, String name) {
        byte[] nameBytes = name.getBytes(StandardCharsets.UTF_8);
        ByteBuffer ref = ByteBuffer.allocate(8 + nameBytes.length).order(ByteOrder.LITTLE_ENDIAN);
        ref.putLong(length).put(nameBytes);
        return ref.array();
    }

    private static String spillName(byte[] reference) {
        return new String(reference, 8, reference.length - 8, StandardCharsets.UTF_8);
    }

    /** @return the description used in messages */
    public String description() {
        return description;
    }
}
