package io.multiproc4j.sync;

import static io.multiproc4j.internal.shm.SemaphoreLayout.*;

import io.multiproc4j.internal.shm.Futex;
import io.multiproc4j.internal.shm.ProcessIdentity;
import io.multiproc4j.internal.shm.RobustMutex;
import io.multiproc4j.internal.shm.Segment;
import io.multiproc4j.internal.shm.SegmentLayout;
import io.multiproc4j.internal.shm.SemaphoreLayout;
import java.io.Serial;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * A counting semaphore shared by processes: Python's {@code multiprocessing.Semaphore} and
 * {@code BoundedSemaphore}. Layout: {@link SemaphoreLayout}.
 *
 * {@snippet :
 * ProcessSemaphore slots = ProcessSemaphore.createBounded(3);     // at most 3 at a time
 * pool.map(i -> {
 *     slots.acquire();
 *     try { return useScarceResource(i); } finally { slots.release(); }
 * }, inputs);
 * }
 *
 * <h2>Concurrency</h2>
 * The permit count is the futex word. An unbounded semaphore changes it by compare-and-set only; a
 * bounded one changes it, and its holder slots, under a {@link RobustMutex} in the same memory. An
 * acquirer that finds no permit registers as a waiter, then sleeps while the count is 0. A release
 * wakes one sleeper when the waiter count is not 0; a waiter that registers after the release read
 * it finds the count above 0 in the kernel's compare, so no wakeup is lost.
 *
 * <h2>Crash handling</h2>
 * A <em>bounded</em> semaphore's permits are resources with holders: each acquire records, per
 * process, how many permits it holds (a release by a process that holds none returns one on
 * another holder's behalf, a hand-off). When a process dies holding permits, they come back: a
 * waiter checks the recorded holders once per wait slice (50 ms) and a {@code tryAcquire} that
 * finds none checks them at once; the dead process's permits are added to the count
 * ({@link #recoveredPermits()} counts them) and waiters wake. A process killed in the middle of an
 * acquire or a release leaves the count and its record off by one at most; the next process to take
 * the lock over rebuilds the count from the records ({@code permits = bound - held}), so the total
 * stays exactly the bound. Up to 64 processes are recorded at once; permits of further processes
 * are counted but not recovered.
 *
 * <p>An <em>unbounded</em> semaphore is a count of signals: a release may come from a process that
 * never acquired, and an acquire consumes a signal for good. A process that dies after acquiring
 * consumed what it took, so nothing is given back (as in Python). Use a bounded semaphore to guard
 * resources.
 */
public final class ProcessSemaphore extends SegmentBacked {
    @Serial
    private static final long serialVersionUID = 1L;
    private static final VarHandle INT = ValueLayout.JAVA_INT.varHandle();
    private static final VarHandle LONG = ValueLayout.JAVA_LONG.varHandle();

    private transient volatile RobustMutex mutex;
    /** Where this process's holder slot was last found (a hint; checked before use). */
    private transient int slotHint = -1;

    private ProcessSemaphore(Segment segment) {
        super(segment);
    }

    private RobustMutex mutex() {
        RobustMutex m = mutex;
        if (m == null) {
            // racy, but benign: equal stateless views of the same memory
            m = new RobustMutex(memory(), LOCK_OFFSET, false, "lock of ProcessSemaphore '" + name() + "'");
            mutex = m;
        }
        return m;
    }

    /**
     * @param permits the initial permits, {@code >= 0}
     * @return a new unbounded semaphore, owned by this process
     */
    public static ProcessSemaphore create(int permits) {
        return create(null, permits, -1);
    }

    /**
     * A bounded semaphore: releasing beyond the initial count is an error (Python's {@code BoundedSemaphore}).
     *
     * @param permits the initial and highest permit count, {@code >= 0}
     * @return a new bounded semaphore, owned by this process
     */
    public static ProcessSemaphore createBounded(int permits) {
        return create(null, permits, permits);
    }

    /**
     * @param name    the name other processes {@link #attach} by, or null for a generated one
     * @param permits the initial permits, {@code >= 0}
     * @param bound   the highest permit count, or -1 for unbounded
     * @return a new semaphore, owned by this process
     */
    public static ProcessSemaphore create(String name, int permits, int bound) {
        if (permits < 0) {
            throw new IllegalArgumentException("permits must be >= 0, was " + permits);
        }
        if (bound != -1 && bound < permits) {
            throw new IllegalArgumentException("bound " + bound + " must be -1 (unbounded) or >= permits " + permits);
        }
        ProcessSemaphore semaphore = new ProcessSemaphore(Segment.create(name, SemaphoreLayout.SIZE,
                SegmentLayout.KIND_SEMAPHORE));
        INT.setVolatile(semaphore.memory(), BOUND_OFFSET, bound);
        if (bound >= 0) {
            // permits the semaphore starts without count as held by nobody: permits + held = bound
            INT.setVolatile(semaphore.memory(), OVERFLOW_OFFSET, bound - permits);
        }
        INT.setVolatile(semaphore.memory(), PERMITS_OFFSET, permits);
        return semaphore;
    }

    /**
     * @param name the name given to {@link #create(String, int, int)}
     * @return a handle on that semaphore
     */
    public static ProcessSemaphore attach(String name) {
        return new ProcessSemaphore(attachKind(name, SegmentLayout.KIND_SEMAPHORE, ProcessSemaphore.class));
    }

    /**
     * Takes a permit, waiting as long as it takes.
     *
     * @throws InterruptedException when interrupted before or while waiting
     */
    public void acquire() throws InterruptedException {
        acquire(-1);
    }

    /** @return whether a permit was available (or was held by a dead process) and is now taken */
    public boolean tryAcquire() {
        if (bound() >= 0) {
            return takeBounded(Long.MAX_VALUE) || recoverDeadHolders() > 0 && takeBounded(Long.MAX_VALUE);
        }
        return takeUnbounded();
    }

    private boolean takeUnbounded() {
        MemorySegment m = memory();
        for (;;) {
            int permits = (int) INT.getVolatile(m, PERMITS_OFFSET);
            if (permits <= 0) {
                return false;
            }
            if (INT.compareAndSet(m, PERMITS_OFFSET, permits, permits - 1)) {
                return true;
            }
        }
    }

    /**
     * @param timeout the most to wait
     * @param unit    its unit
     * @return whether a permit is now taken
     * @throws InterruptedException when interrupted before or while waiting
     */
    public boolean tryAcquire(long timeout, TimeUnit unit) throws InterruptedException {
        return acquire(Math.max(0, unit.toNanos(timeout)));
    }

    /**
     * @param timeout the most to wait
     * @return whether a permit is now taken
     * @throws InterruptedException when interrupted before or while waiting
     */
    public boolean tryAcquire(Duration timeout) throws InterruptedException {
        return tryAcquire(timeout.toNanos(), TimeUnit.NANOSECONDS);
    }

    private boolean acquire(long timeoutNanos) throws InterruptedException {
        if (Thread.interrupted()) {
            throw new InterruptedException();
        }
        boolean bounded = bound() >= 0;
        long deadline = timeoutNanos < 0 ? Long.MAX_VALUE : System.nanoTime() + timeoutNanos;
        // A timed acquire gives up waiting for the lock at its limit; the others wait for it, as
        // the JDK's semaphore waits for its own lock.
        long lockDeadline = timeoutNanos > 0 ? deadline : Long.MAX_VALUE;
        if (bounded ? takeBounded(lockDeadline) : takeUnbounded()) {
            return true;
        }
        if (timeoutNanos == 0) {
            return bounded && recoverDeadHolders() > 0 && takeBounded(Long.MAX_VALUE);
        }
        MemorySegment m = memory();
        INT.getAndAdd(m, WAITERS_OFFSET, 1);
        try {
            long lastCheck = System.nanoTime();
            for (;;) {
                if (bounded ? takeBounded(lockDeadline) : takeUnbounded()) {
                    return true;
                }
                long now = System.nanoTime();
                long remaining = deadline - now;
                if (bounded && (now - lastCheck >= Futex.SLICE_NANOS || remaining <= 0)) {
                    // no permit for a slice (or at the limit): are its holders alive?
                    lastCheck = now;
                    if (recoverDeadHolders() > 0) {
                        continue;
                    }
                }
                if (remaining <= 0) {
                    return false;
                }
                Futex.await(m, PERMITS_OFFSET, 0, remaining);
                if (Thread.interrupted()) {
                    throw new InterruptedException();
                }
            }
        } finally {
            INT.getAndAdd(m, WAITERS_OFFSET, -1);
        }
    }

    // ------------------------------------------------------------------------------------ bounded

    /**
     * Takes a permit of a bounded semaphore if one is available, recording it in this process's slot.
     *
     * @param lockDeadline when to give up waiting for the lock ({@link Long#MAX_VALUE}: never)
     * @return whether a permit was taken
     */
    private boolean takeBounded(long lockDeadline) {
        MemorySegment m = memory();
        if ((int) INT.getVolatile(m, PERMITS_OFFSET) <= 0) {
            return false; // racy, but benign: a hint; a waiter re-checks after the kernel's compare
        }
        if (!lock(lockDeadline)) {
            return false;
        }
        try {
            int permits = (int) INT.getVolatile(m, PERMITS_OFFSET);
            if (permits <= 0) {
                return false;
            }
            long slot = ownSlot(m, true);
            if (slot < 0) {
                addInt(m, OVERFLOW_OFFSET, 1);
            } else {
                addInt(m, slot + 16, 1);
            }
            INT.setRelease(m, PERMITS_OFFSET, permits - 1);
            return true;
        } finally {
            mutex().release();
        }
    }

    private void releaseBounded(int bound) {
        MemorySegment m = memory();
        lock(Long.MAX_VALUE);
        try {
            int permits = (int) INT.getVolatile(m, PERMITS_OFFSET);
            if (permits >= bound) {
                throw new IllegalStateException("ProcessSemaphore '" + name() + "' is bounded to " + bound
                        + " permits and holds " + permits + ": released more often than acquired");
            }
            long slot = ownSlot(m, false);
            if (slot < 0 || (int) INT.getVolatile(m, slot + 16) == 0) {
                // Not a holder: the release returns a permit nobody recorded (one the semaphore
                // started without, or one of an unrecorded process) or, failing that, hands one
                // back on another holder's behalf.
                slot = (int) INT.getVolatile(m, OVERFLOW_OFFSET) > 0 ? -1 : anyHolderSlot(m);
            }
            if (slot < 0) {
                addInt(m, OVERFLOW_OFFSET, -1);
            } else if (addInt(m, slot + 16, -1) == 0) {
                LONG.setRelease(m, slot, 0L); // the slot is free again
            }
            INT.setRelease(m, PERMITS_OFFSET, permits + 1);
        } finally {
            mutex().release();
        }
    }

    /**
     * Gives back the permits of holders whose process died.
     *
     * @return how many permits came back
     */
    private int recoverDeadHolders() {
        MemorySegment m = memory();
        boolean anyDead = false;
        for (int i = 0; i < HOLDER_SLOTS && !anyDead; i++) {
            anyDead = isDeadHolder(m, HOLDER_SLOTS_OFFSET + i * HOLDER_SLOT_SIZE);
        }
        if (!anyDead) {
            return 0; // the common case: checked without the lock
        }
        int recovered = 0;
        lock(Long.MAX_VALUE);
        try {
            for (int i = 0; i < HOLDER_SLOTS; i++) {
                recovered += reclaimIfDead(m, HOLDER_SLOTS_OFFSET + i * HOLDER_SLOT_SIZE);
            }
        } finally {
            mutex().release();
        }
        wakeFor(m, recovered);
        return recovered;
    }

    private static boolean isDeadHolder(MemorySegment m, long slot) {
        long pid = (long) LONG.getVolatile(m, slot);
        return pid != 0 && pid != ProcessIdentity.PID
                && !ProcessIdentity.isAlive(pid, (long) LONG.getVolatile(m, slot + 8));
    }

    /** Under the lock: frees a dead holder's slot and adds its permits to the count. */
    private static int reclaimIfDead(MemorySegment m, long slot) {
        if (!isDeadHolder(m, slot)) {
            return 0;
        }
        int held = (int) INT.getVolatile(m, slot + 16);
        INT.setRelease(m, slot + 16, 0);
        LONG.setRelease(m, slot, 0L);
        if (held > 0) {
            INT.setRelease(m, PERMITS_OFFSET, (int) INT.getVolatile(m, PERMITS_OFFSET) + held);
            LONG.getAndAdd(m, RECOVERED_OFFSET, (long) held);
        }
        return Math.max(0, held);
    }

    /**
     * Takes the lock; after a takeover from a process that died inside an acquire or a release,
     * rebuilds the count from the records, which its death may have left one apart.
     */
    private boolean lock(long deadline) {
        RobustMutex lock = mutex();
        boolean acquired;
        try {
            acquired = deadline == Long.MAX_VALUE ? lock.acquire(-1, false)
                    : lock.acquire(Math.max(0, deadline - System.nanoTime()), false);
        } catch (InterruptedException impossible) {
            throw new AssertionError(impossible); // not interruptible
        }
        if (acquired && lock.recoveredFromDeadHolder()) {
            MemorySegment m = memory();
            int held = (int) INT.getVolatile(m, OVERFLOW_OFFSET);
            for (int i = 0; i < HOLDER_SLOTS; i++) {
                long slot = HOLDER_SLOTS_OFFSET + i * HOLDER_SLOT_SIZE;
                if ((long) LONG.getVolatile(m, slot) != 0) {
                    held += Math.max(0, (int) INT.getVolatile(m, slot + 16));
                }
            }
            INT.setRelease(m, PERMITS_OFFSET, (int) INT.getVolatile(m, BOUND_OFFSET) - held);
            Futex.wake(m, PERMITS_OFFSET, Integer.MAX_VALUE);
        }
        return acquired;
    }

    /** Under the lock: this process's slot, claimed when asked to; -1 when none (or none free). */
    private long ownSlot(MemorySegment m, boolean claim) {
        int hint = slotHint;
        if (hint >= 0 && isOwn(m, HOLDER_SLOTS_OFFSET + hint * HOLDER_SLOT_SIZE)) {
            return HOLDER_SLOTS_OFFSET + hint * HOLDER_SLOT_SIZE;
        }
        long free = -1;
        for (int i = 0; i < HOLDER_SLOTS; i++) {
            long slot = HOLDER_SLOTS_OFFSET + i * HOLDER_SLOT_SIZE;
            if (isOwn(m, slot)) {
                slotHint = i;
                return slot;
            }
            if (free < 0 && (long) LONG.getVolatile(m, slot) == 0) {
                free = slot;
            }
        }
        if (!claim || free < 0) {
            return -1;
        }
        // A dead process's slot keeps its permits until recovered: only a free one is claimed.
        INT.setRelease(m, free + 16, 0);
        LONG.setRelease(m, free + 8, ProcessIdentity.START_TIME);
        LONG.setRelease(m, free, ProcessIdentity.PID);
        slotHint = (int) ((free - HOLDER_SLOTS_OFFSET) / HOLDER_SLOT_SIZE);
        return free;
    }

    private static boolean isOwn(MemorySegment m, long slot) {
        return (long) LONG.getVolatile(m, slot) == ProcessIdentity.PID
                && (long) LONG.getVolatile(m, slot + 8) == ProcessIdentity.START_TIME;
    }

    private static long anyHolderSlot(MemorySegment m) {
        for (int i = 0; i < HOLDER_SLOTS; i++) {
            long slot = HOLDER_SLOTS_OFFSET + i * HOLDER_SLOT_SIZE;
            if ((long) LONG.getVolatile(m, slot) != 0 && (int) INT.getVolatile(m, slot + 16) > 0) {
                return slot;
            }
        }
        return -1;
    }

    /** @return the new value */
    private static int addInt(MemorySegment m, long offset, int delta) {
        int value = (int) INT.getVolatile(m, offset) + delta;
        INT.setRelease(m, offset, value);
        return value;
    }

    private static void wakeFor(MemorySegment m, int permits) {
        if (permits > 0 && (int) INT.getVolatile(m, WAITERS_OFFSET) > 0) {
            Futex.wake(m, PERMITS_OFFSET, permits);
        }
    }

    /**
     * Returns a permit and wakes one waiter (of any process).
     *
     * @throws IllegalStateException when the semaphore is bounded and already holds its bound
     */
    public void release() {
        MemorySegment m = memory();
        int bound = (int) INT.getVolatile(m, BOUND_OFFSET);
        if (bound >= 0) {
            releaseBounded(bound);
            wakeFor(m, 1);
            return;
        }
        for (;;) {
            int permits = (int) INT.getVolatile(m, PERMITS_OFFSET);
            if (bound >= 0 && permits >= bound) {
                throw new IllegalStateException("ProcessSemaphore '" + name() + "' is bounded to " + bound
                        + " permits and holds " + permits + ": released more often than acquired");
            }
            if (INT.compareAndSet(m, PERMITS_OFFSET, permits, permits + 1)) {
                break;
            }
        }
        if ((int) INT.getVolatile(m, WAITERS_OFFSET) > 0) {
            Futex.wake(m, PERMITS_OFFSET, 1);
        }
    }

    /** @return the permits available now */
    public int availablePermits() {
        return (int) INT.getVolatile(memory(), PERMITS_OFFSET);
    }

    /**
     * @return how many permits were given back because the process holding them died (bounded
     *     semaphores; always 0 for unbounded ones)
     */
    public long recoveredPermits() {
        return (long) LONG.getVolatile(memory(), RECOVERED_OFFSET);
    }

    /** @return the bound, or -1 when unbounded */
    public int bound() {
        return (int) INT.getVolatile(memory(), BOUND_OFFSET);
    }

    @Override
    public String toString() {
        return "ProcessSemaphore[" + name() + ", " + availablePermits() + " permits]";
    }
}
