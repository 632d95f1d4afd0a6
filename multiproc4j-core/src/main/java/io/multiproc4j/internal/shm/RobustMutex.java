package io.multiproc4j.internal.shm;

import static io.multiproc4j.internal.shm.LockLayout.*;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;

/**
 * A mutual-exclusion lock in shared memory that survives the death of its holder: the engine of
 * {@code ProcessLock}, {@code ProcessReentrantLock} and the barrier's internal lock. Layout:
 * {@link LockLayout}.
 *
 * <pre>
 *  acquire: CAS word 0 → pid ──ok──► record holder (pid, start, thread) ─► held
 *              │ fail
 *              ▼
 *     loop: word == 0?          CAS 0 → pid|W      ─► held
 *           holder dead?        CAS word → pid|W   ─► held, "recovered" set
 *           set W bit, then futex-wait(word == pid'|W) for one slice, re-check
 *  release: clear holder record ─► word := 0 (getAndSet) ─► W was set? futex-wake one
 * </pre>
 *
 * <h2>Concurrency</h2>
 * The word is the only thing that decides ownership, and it changes by compare-and-set only
 * (release excepted: only the holder releases). It carries the holder's pid, so the holder is known
 * from the very CAS that acquired, even if it dies before writing the rest of its record. The
 * {@code W} (waiters) bit follows Drepper's "Futexes are tricky" mutex 2: a waiter sets it before
 * sleeping, the releaser wakes one thread only when it was set, and a waiter that acquires after
 * sleeping sets it again because other sleepers may remain (at worst one needless wake).
 * Threads of one process contend on the same word; the thread id in the record tells them apart.
 *
 * <h2>Crash handling</h2>
 * A waiter whose wait slice ({@link Futex#SLICE_NANOS}) passes with the word unchanged checks the
 * holder's liveness ({@link ProcessIdentity}); so does a timed waiter whose limit runs out first
 * (once, before it gives up), and a try-once acquire: a timed acquire never overruns its limit
 * because of a dead holder, and takes the lock over at the limit at the latest. When the holder process is dead, the waiter takes the
 * lock with a CAS from the very word value it inspected (so two waiters cannot both take over) and
 * marks the hold as <em>recovered</em>: the protected data may be half-updated, and the new holder
 * is told through {@link #recoveredFromDeadHolder()}. A live process that keeps a lock forever is
 * not detected (that is a deadlock, for diagnostics to show).
 *
 * <h2>States of the word</h2>
 * FREE (0) → HELD (pid) by CAS; HELD → HELD_CONTENDED (pid|W) by a waiter; HELD* → FREE by the
 * holder's release; HELD* of a dead pid → HELD_CONTENDED (new pid|W) by a waiter's takeover.
 */
public final class RobustMutex {
    private static final VarHandle INT = ValueLayout.JAVA_INT.varHandle();
    private static final VarHandle LONG = ValueLayout.JAVA_LONG.varHandle();
    private static final int ME = (int) (ProcessIdentity.PID & PID_MASK);

    private final MemorySegment memory;
    private final long base;
    private final boolean reentrant;
    private final String description;

    /**
     * @param memory      the mapped data holding the lock
     * @param base        the lock's offset in {@code memory}
     * @param reentrant   whether the holding thread may acquire again
     * @param description names the lock in error messages
     */
    public RobustMutex(MemorySegment memory, long base, boolean reentrant, String description) {
        if (ProcessIdentity.PID > PID_MASK) {
            throw new UnsupportedOperationException("pid " + ProcessIdentity.PID + " does not fit the lock word");
        }
        this.memory = memory;
        this.base = base;
        this.reentrant = reentrant;
        this.description = description;
    }

    /**
     * Acquires the lock.
     *
     * @param timeoutNanos 0 to try once, a positive wait limit, or a negative value to wait forever
     * @param interruptible whether an interrupt ends the wait with {@link InterruptedException}
     * @return whether the lock is now held by the calling thread
     * @throws InterruptedException when interruptible and interrupted (before or while waiting)
     * @throws IllegalMonitorStateException when a non-reentrant lock's holder tries to block on it again
     */
    public boolean acquire(long timeoutNanos, boolean interruptible) throws InterruptedException {
        if (interruptible && Thread.interrupted()) {
            throw new InterruptedException();
        }
        long thread = Thread.currentThread().threadId();
        if (isHeldBy(thread)) {
            if (reentrant) {
                setInt(HOLDS_OFFSET, getInt(HOLDS_OFFSET) + 1);
                return true;
            }
            if (timeoutNanos == 0) {
                return false;
            }
            throw new IllegalMonitorStateException(description + " is already held by this thread and is not "
                    + "reentrant: waiting would deadlock. Use ProcessReentrantLock to lock it again");
        }
        if (INT.compareAndSet(memory, base + WORD_OFFSET, 0, ME)) {
            onAcquired(thread, false);
            return true;
        }
        // Critical sections are usually short: spin a little before announcing a waiter, because
        // once the W bit is set every release pays a futex-wake system call.
        for (int i = 0; i < Futex.SPINS && timeoutNanos != 0; i++) {
            Thread.onSpinWait();
            if ((int) INT.getVolatile(memory, base + WORD_OFFSET) == 0
                    && INT.compareAndSet(memory, base + WORD_OFFSET, 0, ME)) {
                onAcquired(thread, false);
                return true;
            }
        }
        if (timeoutNanos == 0) {
            int word = (int) INT.getVolatile(memory, base + WORD_OFFSET);
            if (word != 0 && holderIsDead(word) && INT.compareAndSet(memory, base + WORD_OFFSET, word, ME | WAITERS_BIT)) {
                onAcquired(thread, true);
                return true;
            }
            return false;
        }
        return acquireSlow(thread, timeoutNanos < 0 ? Long.MAX_VALUE : System.nanoTime() + timeoutNanos,
                interruptible);
    }

    private boolean acquireSlow(long thread, long deadline, boolean interruptible) throws InterruptedException {
        INT.getAndAdd(memory, base + WAITERS_OFFSET, 1);
        int slot = claimWaiterSlot(thread);
        int lastWord = 0;
        long unchangedSince = System.nanoTime();
        try {
            for (;;) {
                if (interruptible && Thread.interrupted()) {
                    throw new InterruptedException();
                }
                int word = (int) INT.getVolatile(memory, base + WORD_OFFSET);
                long now = System.nanoTime();
                if (word == 0) {
                    if (INT.compareAndSet(memory, base + WORD_OFFSET, 0, ME | WAITERS_BIT)) {
                        onAcquired(thread, false);
                        return true;
                    }
                    continue;
                }
                if ((word & PID_MASK) != (lastWord & PID_MASK)) {
                    lastWord = word;
                    unchangedSince = now;
                } else if (now - unchangedSince >= Futex.SLICE_NANOS && holderIsDead(word)) {
                    // Take over from the very word inspected: of several waiters, exactly one wins.
                    if (INT.compareAndSet(memory, base + WORD_OFFSET, word, ME | WAITERS_BIT)) {
                        onAcquired(thread, true);
                        return true;
                    }
                    continue;
                }
                if ((word & WAITERS_BIT) == 0
                        && !INT.compareAndSet(memory, base + WORD_OFFSET, word, word | WAITERS_BIT)) {
                    continue;
                }
                long remaining = deadline - now;
                if (remaining <= 0) {
                    // A waiter whose limit is shorter than a slice would never look at the holder:
                    // look once before giving up, so a timed caller takes over a dead holder's
                    // lock at its deadline instead of failing (or overrunning) because of it.
                    return holderIsDead(word) && takeOver(thread, word);
                }
                Futex.await(memory, base + WORD_OFFSET, word | WAITERS_BIT, remaining);
            }
        } finally {
            releaseWaiterSlot(slot);
            INT.getAndAdd(memory, base + WAITERS_OFFSET, -1);
        }
    }

    private boolean takeOver(long thread, int word) {
        if (INT.compareAndSet(memory, base + WORD_OFFSET, word, ME | WAITERS_BIT)) {
            onAcquired(thread, true);
            return true;
        }
        return false;
    }

    /*
     * The holder record is written and cleared with release stores, not volatile ones (a plain MOV on
     * x86-64 instead of a fenced one): only the holder writes it, the CAS or getAndSet on the word
     * next to it is the fence, and its readers (diagnostics, liveness checks, the same thread's
     * isHeldBy) tolerate a stale value: a thread can only ever see its own id there while it holds.
     */
    private void onAcquired(long thread, boolean recovered) {
        LONG.setRelease(memory, base + HOLDER_PID_OFFSET, ProcessIdentity.PID);
        LONG.setRelease(memory, base + HOLDER_START_OFFSET, ProcessIdentity.START_TIME);
        LONG.setRelease(memory, base + HOLDER_THREAD_OFFSET, thread);
        setInt(HOLDS_OFFSET, 1);
        setInt(RECOVERED_OFFSET, recovered ? 1 : 0);
        if (recovered) {
            LONG.getAndAdd(memory, base + RECOVERIES_OFFSET, 1L);
        }
    }

    /**
     * Releases one hold; the last one frees the lock and wakes a waiter.
     *
     * @throws IllegalMonitorStateException when the calling thread does not hold the lock
     */
    public void release() {
        checkHeld("unlock");
        int holds = getInt(HOLDS_OFFSET);
        if (holds > 1) {
            setInt(HOLDS_OFFSET, holds - 1);
            return;
        }
        releaseFully();
    }

    /**
     * Frees the lock whatever the hold count (a condition wait).
     *
     * @return the hold count to restore with {@link #reacquire}
     */
    public int releaseFully() {
        int holds = getInt(HOLDS_OFFSET);
        // Clear the record before the word: a checker that sees the old pid in the word and no record
        // checks the pid alone, which is alive.
        LONG.setRelease(memory, base + HOLDER_THREAD_OFFSET, 0L);
        LONG.setRelease(memory, base + HOLDER_START_OFFSET, 0L);
        LONG.setRelease(memory, base + HOLDER_PID_OFFSET, 0L);
        setInt(HOLDS_OFFSET, 0);
        setInt(RECOVERED_OFFSET, 0);
        int old = (int) INT.getAndSet(memory, base + WORD_OFFSET, 0);
        if ((old & WAITERS_BIT) != 0) {
            Futex.wake(memory, base + WORD_OFFSET, 1);
        }
        return holds;
    }

    /**
     * Acquires again after {@link #releaseFully()}, uninterruptibly, and restores the hold count.
     *
     * @param holds the hold count {@code releaseFully} returned
     * @return whether the lock was taken over from a dead holder meanwhile
     */
    public boolean reacquire(int holds) {
        boolean interrupted = false;
        for (;;) {
            try {
                acquire(-1, false);
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        setInt(HOLDS_OFFSET, holds);
        return getInt(RECOVERED_OFFSET) != 0;
    }

    /**
     * @param action what the caller wanted to do, for the message
     * @throws IllegalMonitorStateException when the calling thread does not hold the lock
     */
    public void checkHeld(String action) {
        if (!isHeldBy(Thread.currentThread().threadId())) {
            long pid = (long) LONG.getVolatile(memory, base + HOLDER_PID_OFFSET);
            int word = (int) INT.getVolatile(memory, base + WORD_OFFSET);
            String holder = word == 0 ? "nobody holds it"
                    : "it is held by pid " + (word & PID_MASK)
                    + (pid == (word & PID_MASK) ? " thread " + (long) LONG.getVolatile(memory, base + HOLDER_THREAD_OFFSET) : "");
            throw new IllegalMonitorStateException("cannot " + action + " " + description + ": the calling thread "
                    + Thread.currentThread().threadId() + " of pid " + ProcessIdentity.PID
                    + " does not hold it (" + holder + ")");
        }
    }

    /** @return whether the calling thread holds the lock */
    public boolean isHeldByCurrentThread() {
        return isHeldBy(Thread.currentThread().threadId());
    }

    private boolean isHeldBy(long thread) {
        int word = (int) INT.getVolatile(memory, base + WORD_OFFSET);
        return word != 0 && (word & PID_MASK) == ME
                && (long) LONG.getAcquire(memory, base + HOLDER_THREAD_OFFSET) == thread;
    }

    /** @return the calling holder's hold count, 0 when it does not hold the lock */
    public int holdCount() {
        return isHeldByCurrentThread() ? getInt(HOLDS_OFFSET) : 0;
    }

    /** @return whether the current hold was taken over from a holder process that died holding it */
    public boolean recoveredFromDeadHolder() {
        return isHeldByCurrentThread() && getInt(RECOVERED_OFFSET) != 0;
    }

    /** @return whether any thread of any process holds the lock */
    public boolean isLocked() {
        return (int) INT.getVolatile(memory, base + WORD_OFFSET) != 0;
    }

    private boolean holderIsDead(int word) {
        long pid = word & PID_MASK;
        if (pid == ME) {
            return false;
        }
        long recordedPid = (long) LONG.getVolatile(memory, base + HOLDER_PID_OFFSET);
        long recordedStart = (long) LONG.getVolatile(memory, base + HOLDER_START_OFFSET);
        return !ProcessIdentity.isAlive(pid, recordedPid == pid ? recordedStart : 0);
    }

    /**
     * A consistent-enough snapshot for diagnostics (fields are read one by one while the lock runs).
     *
     * @return the holder record, waiter count and waiter slots
     */
    public Snapshot snapshot() {
        int word = (int) INT.getVolatile(memory, base + WORD_OFFSET);
        long holderPid = word == 0 ? 0 : word & PID_MASK;
        long recordedPid = (long) LONG.getVolatile(memory, base + HOLDER_PID_OFFSET);
        long start = recordedPid == holderPid ? (long) LONG.getVolatile(memory, base + HOLDER_START_OFFSET) : 0;
        long thread = recordedPid == holderPid ? (long) LONG.getVolatile(memory, base + HOLDER_THREAD_OFFSET) : 0;
        boolean alive = holderPid != 0 && ProcessIdentity.isAlive(holderPid, start);
        long[] waiterPids = new long[WAITER_SLOTS];
        long[] waiterThreads = new long[WAITER_SLOTS];
        int n = 0;
        for (int i = 0; i < WAITER_SLOTS; i++) {
            long slot = base + WAITER_SLOTS_OFFSET + i * WAITER_SLOT_SIZE;
            long pid = (long) LONG.getVolatile(memory, slot);
            if (pid != 0) {
                waiterPids[n] = pid;
                waiterThreads[n] = (long) LONG.getVolatile(memory, slot + 8);
                n++;
            }
        }
        return new Snapshot(holderPid, start, thread, alive, holderPid == 0 ? 0 : getInt(HOLDS_OFFSET),
                getInt(WAITERS_OFFSET), java.util.Arrays.copyOf(waiterPids, n), java.util.Arrays.copyOf(waiterThreads, n),
                (long) LONG.getVolatile(memory, base + RECOVERIES_OFFSET));
    }

    /**
     * @param holderPid     0 when free
     * @param holderStart   start ticks of the holder, 0 when not yet recorded
     * @param holderThread  the holder thread id, 0 when not yet recorded
     * @param holderAlive   whether the holder process is alive
     * @param holds         the hold count
     * @param waiting       threads blocked on the lock, all processes
     * @param waiterPids    pids of recorded waiters (up to {@link LockLayout#WAITER_SLOTS})
     * @param waiterThreads their thread ids
     * @param recoveries    how many times a dead holder's hold was taken over
     */
    public record Snapshot(long holderPid, long holderStart, long holderThread, boolean holderAlive, int holds,
                           int waiting, long[] waiterPids, long[] waiterThreads, long recoveries) {}

    private int claimWaiterSlot(long thread) {
        for (int i = 0; i < WAITER_SLOTS; i++) {
            long slot = base + WAITER_SLOTS_OFFSET + i * WAITER_SLOT_SIZE;
            long pid = (long) LONG.getVolatile(memory, slot);
            if (pid == 0 && LONG.compareAndSet(memory, slot, 0L, ProcessIdentity.PID)) {
                LONG.setVolatile(memory, slot + 8, thread);
                return i;
            }
        }
        return -1; // more waiters than slots: counted, not named
    }

    private void releaseWaiterSlot(int index) {
        if (index >= 0) {
            long slot = base + WAITER_SLOTS_OFFSET + index * WAITER_SLOT_SIZE;
            LONG.setVolatile(memory, slot + 8, 0L);
            LONG.setVolatile(memory, slot, 0L);
        }
    }

    private int getInt(long offset) {
        return (int) INT.getAcquire(memory, base + offset);
    }

    private void setInt(long offset, int value) {
        INT.setRelease(memory, base + offset, value);
    }

    /** @return the mapped memory */
    public MemorySegment memory() {
        return memory;
    }

    /** @return the lock's offset */
    public long base() {
        return base;
    }

    /** @return the description used in messages */
    public String description() {
        return description;
    }
}
