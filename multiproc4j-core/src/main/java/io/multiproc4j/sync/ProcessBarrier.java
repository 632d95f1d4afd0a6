package io.multiproc4j.sync;

import static io.multiproc4j.internal.shm.BarrierLayout.*;

import io.multiproc4j.SerializableRunnable;
import io.multiproc4j.internal.shm.BarrierLayout;
import io.multiproc4j.internal.shm.Futex;
import io.multiproc4j.internal.shm.ProcessIdentity;
import io.multiproc4j.internal.shm.RobustMutex;
import io.multiproc4j.internal.shm.Segment;
import io.multiproc4j.internal.shm.SegmentLayout;
import java.io.Serial;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.time.Duration;
import java.util.concurrent.BrokenBarrierException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A cyclic barrier shared by processes: Python's {@code multiprocessing.Barrier} with the semantics of
 * {@link java.util.concurrent.CyclicBarrier}. Layout: {@link BarrierLayout}.
 *
 * {@snippet :
 * ProcessBarrier start = ProcessBarrier.create(4, () -> System.out.println("all here"));
 * pool.map(i -> { start.await(); return step(i); }, range(0, 4));
 * }
 *
 * <h2>States (per generation)</h2>
 * <pre>
 *  WAITING (count &lt; parties) ──last party arrives──► TRIPPED: action runs in the last party's
 *     │                                              process, gen++, every waiter returns
 *     ├──a waiter times out / is interrupted, abort()──► BROKEN: every waiter and every later
 *     │                                                  await throws BrokenBarrierException
 *     └──reset()──► waiters throw BrokenBarrierException; a fresh generation starts (also from BROKEN)
 * </pre>
 * {@link #await()} returns the arrival index: {@code parties - 1} for the first to arrive, 0 for
 * the last, which also runs the action; so index 0 is returned exactly once per generation. When the
 * action throws, the barrier breaks and the last party gets the action's exception.
 *
 * <h2>Crash handling</h2>
 * A party whose process dies while waiting (or while running the action, or holding the barrier's
 * lock) can never arrive again, so the generation cannot trip: the barrier breaks, and every
 * waiter, of every process, gets a {@link BrokenBarrierException} naming the dead party's pid,
 * within about one wait slice (50 ms) of the death, as later {@code await}s do until
 * {@link #reset()}. Each arriving party records its process (pid and start time) in the barrier's
 * memory; each sleeping party watches one other recorded party (see {@code deadNeighbour}). A
 * process that dies before it arrives is not distinguishable from a slow one: give
 * {@link #await(long, TimeUnit)} a timeout when that may happen. Up to {@code 64} waiting parties
 * are recorded; parties beyond that are counted but not watched.
 */
public final class ProcessBarrier extends SegmentBacked {
    @Serial
    private static final long serialVersionUID = 1L;
    private static final VarHandle INT = ValueLayout.JAVA_INT.varHandle();
    private static final VarHandle LONG = ValueLayout.JAVA_LONG.varHandle();

    private final SerializableRunnable action;
    private transient volatile RobustMutex mutex;

    private ProcessBarrier(Segment segment, SerializableRunnable action) {
        super(segment);
        this.action = action;
    }

    /**
     * @param parties how many must call {@link #await()} to trip it, {@code >= 1}
     * @return a new barrier, owned by this process
     */
    public static ProcessBarrier create(int parties) {
        return create(null, parties, null);
    }

    /**
     * @param parties how many must call {@link #await()} to trip it, {@code >= 1}
     * @param action  runs once per trip, in the process of the last party to arrive (null for none)
     * @return a new barrier, owned by this process
     */
    public static ProcessBarrier create(int parties, SerializableRunnable action) {
        return create(null, parties, action);
    }

    /**
     * @param name    the name other processes {@link #attach} by, or null for a generated one
     * @param parties how many must call {@link #await()} to trip it, {@code >= 1}
     * @param action  runs once per trip, in the process of the last party to arrive (null for none)
     * @return a new barrier, owned by this process
     */
    public static ProcessBarrier create(String name, int parties, SerializableRunnable action) {
        if (parties < 1) {
            throw new IllegalArgumentException("parties must be >= 1, was " + parties);
        }
        ProcessBarrier barrier = new ProcessBarrier(Segment.create(name, BarrierLayout.SIZE,
                SegmentLayout.KIND_BARRIER), action);
        INT.setVolatile(barrier.memory(), PARTIES_OFFSET, parties);
        return barrier;
    }

    /**
     * @param name   the name given to {@link #create(String, int, SerializableRunnable)}
     * @param action the action this process runs when its party trips the barrier (null for none)
     * @return a handle on that barrier
     */
    public static ProcessBarrier attach(String name, SerializableRunnable action) {
        return new ProcessBarrier(attachKind(name, SegmentLayout.KIND_BARRIER, ProcessBarrier.class), action);
    }

    private RobustMutex mutex() {
        RobustMutex m = mutex;
        if (m == null) {
            // racy, but benign: equal stateless views of the same memory
            m = new RobustMutex(memory(), LOCK_OFFSET, false, "lock of ProcessBarrier '" + name() + "'");
            mutex = m;
        }
        return m;
    }

    /**
     * Waits until all parties arrived.
     *
     * @return the arrival index: {@code parties() - 1} for the first, 0 for the last
     * @throws InterruptedException   when interrupted while waiting (the barrier breaks)
     * @throws BrokenBarrierException when the barrier is or becomes broken, or is reset, while waiting
     */
    public int await() throws InterruptedException, BrokenBarrierException {
        try {
            return await(-1);
        } catch (TimeoutException e) {
            throw new AssertionError(e);
        }
    }

    /**
     * @param timeout the most to wait
     * @param unit    its unit
     * @return the arrival index: {@code parties() - 1} for the first, 0 for the last
     * @throws InterruptedException   when interrupted while waiting (the barrier breaks)
     * @throws BrokenBarrierException when the barrier is or becomes broken, or is reset, while waiting
     * @throws TimeoutException       when the time elapsed first (the barrier breaks)
     */
    public int await(long timeout, TimeUnit unit)
            throws InterruptedException, BrokenBarrierException, TimeoutException {
        return await(Math.max(0, unit.toNanos(timeout)));
    }

    /**
     * @param timeout the most to wait
     * @return the arrival index
     * @throws InterruptedException   when interrupted while waiting (the barrier breaks)
     * @throws BrokenBarrierException when the barrier is or becomes broken, or is reset, while waiting
     * @throws TimeoutException       when the time elapsed first (the barrier breaks)
     */
    public int await(Duration timeout) throws InterruptedException, BrokenBarrierException, TimeoutException {
        return await(timeout.toNanos(), TimeUnit.NANOSECONDS);
    }

    private int await(long timeoutNanos) throws InterruptedException, BrokenBarrierException, TimeoutException {
        MemorySegment m = memory();
        RobustMutex lock = mutex();
        long deadline = timeoutNanos < 0 ? Long.MAX_VALUE : System.nanoTime() + timeoutNanos;
        if (lock.reacquire(1)) {
            breakForDeadHolder(m);
        }
        try {
            int gen = get(m, GEN_OFFSET);
            if (get(m, BROKEN_OFFSET) != 0) {
                throw broken(m);
            }
            if (Thread.interrupted()) {
                breakBarrier(m, 0);
                throw new InterruptedException();
            }
            int arrived = get(m, COUNT_OFFSET) + 1;
            INT.setVolatile(m, COUNT_OFFSET, arrived);
            int slot = claimPartySlot(m);
            int index = get(m, PARTIES_OFFSET) - arrived;
            if (index == 0) {
                runAction(m);
                clearPartySlots(m);
                INT.setVolatile(m, COUNT_OFFSET, 0);
                INT.setVolatile(m, GEN_OFFSET, gen + 1);
                bumpEpoch(m);
                return 0;
            }
            for (;;) {
                int epoch = get(m, EPOCH_OFFSET);
                int holds = lock.releaseFully();
                boolean interrupted = false;
                boolean timedOut = false;
                long deadParty = 0;
                for (;;) {
                    long remaining = deadline - System.nanoTime();
                    if (remaining <= 0) {
                        timedOut = true;
                        break;
                    }
                    Futex.await(m, EPOCH_OFFSET, epoch, remaining);
                    if (Thread.interrupted()) {
                        interrupted = true;
                        break;
                    }
                    if (get(m, EPOCH_OFFSET) != epoch) {
                        break;
                    }
                    deadParty = deadNeighbour(m, slot);
                    if (deadParty != 0) {
                        break;
                    }
                }
                if (lock.reacquire(holds)) {
                    breakForDeadHolder(m);
                }
                if (get(m, GEN_OFFSET) != gen) {
                    if (get(m, RESET_GEN_OFFSET) == gen + 1) {
                        throw broken(m);
                    }
                    if (interrupted) {
                        Thread.currentThread().interrupt(); // tripped first: return, keep the status
                    }
                    return index;
                }
                if (get(m, BROKEN_OFFSET) != 0) {
                    throw broken(m);
                }
                if (interrupted) {
                    breakBarrier(m, 0);
                    throw new InterruptedException();
                }
                if (deadParty != 0) {
                    breakBarrier(m, deadParty);
                    throw broken(m);
                }
                if (timedOut) {
                    breakBarrier(m, 0);
                    throw new TimeoutException("ProcessBarrier '" + name() + "': " + get(m, COUNT_OFFSET) + " of "
                            + get(m, PARTIES_OFFSET) + " parties arrived before the timeout; the barrier is now broken");
                }
            }
        } finally {
            lock.releaseFully();
        }
    }

    /*
     * Party slots. Each arriving party records its process (pid, start time) in a free slot, under
     * the lock; the generation's end (trip, break, reset) clears them all, so the slots always name
     * the processes waiting in the current generation. A sleeping party checks, once per wait
     * slice, the next occupied slot after its own (cyclically): every recorded party is watched by
     * one other, at the cost of one liveness check per waiter and slice, whatever the party count.
     * Parties beyond PARTY_SLOTS are counted but not recorded (so not watched).
     */

    private static int claimPartySlot(MemorySegment m) {
        for (int i = 0; i < PARTY_SLOTS; i++) {
            long at = PARTY_SLOTS_OFFSET + i * PARTY_SLOT_SIZE;
            if ((long) LONG.getVolatile(m, at) == 0) {
                LONG.setVolatile(m, at + 8, ProcessIdentity.START_TIME);
                LONG.setVolatile(m, at, ProcessIdentity.PID);
                return i;
            }
        }
        return -1;
    }

    private static void clearPartySlots(MemorySegment m) {
        for (int i = 0; i < PARTY_SLOTS; i++) {
            LONG.setVolatile(m, PARTY_SLOTS_OFFSET + i * PARTY_SLOT_SIZE, 0L);
        }
    }

    /** @return the pid of the party after {@code slot} when its process died, else 0 */
    private static long deadNeighbour(MemorySegment m, int slot) {
        for (int k = 1; k <= PARTY_SLOTS; k++) {
            int i = ((slot < 0 ? 0 : slot) + k) % PARTY_SLOTS;
            long at = PARTY_SLOTS_OFFSET + i * PARTY_SLOT_SIZE;
            long pid = (long) LONG.getVolatile(m, at);
            if (pid != 0 && i != slot) {
                if (pid == ProcessIdentity.PID) {
                    return 0; // a thread of this process: alive, and it watches on
                }
                long start = (long) LONG.getVolatile(m, at + 8);
                return ProcessIdentity.isAlive(pid, start) ? 0 : pid;
            }
        }
        return 0;
    }

    /**
     * The lock was taken over from a process that died holding it, inside {@code await} (perhaps
     * running the action) or {@code reset}: the generation's state is not to be trusted. Breaks it,
     * naming a recorded party that is dead (the holder, as a rule).
     */
    private static void breakForDeadHolder(MemorySegment m) {
        long dead = -1;
        for (int i = 0; i < PARTY_SLOTS; i++) {
            long at = PARTY_SLOTS_OFFSET + i * PARTY_SLOT_SIZE;
            long pid = (long) LONG.getVolatile(m, at);
            if (pid != 0 && pid != ProcessIdentity.PID && !ProcessIdentity.isAlive(pid, (long) LONG.getVolatile(m, at + 8))) {
                dead = pid;
                break;
            }
        }
        breakBarrier(m, dead);
    }

    private void runAction(MemorySegment m) {
        if (action == null) {
            return;
        }
        try {
            action.run();
        } catch (RuntimeException | Error e) {
            breakBarrier(m, 0);
            throw e;
        } catch (Exception e) {
            breakBarrier(m, 0);
            throw new IllegalStateException("the action of ProcessBarrier '" + name() + "' failed: " + e, e);
        }
    }

    private BrokenBarrierException broken(MemorySegment m) {
        long dead = (long) LONG.getVolatile(m, BROKEN_BY_DEAD_OFFSET);
        String why = dead > 0 ? "the process of a party, pid " + dead + ", died while waiting at it or holding its lock"
                : dead < 0 ? "a party's process died holding its lock"
                : "a party timed out, was interrupted, or abort()/reset() was called";
        return new BrokenBarrierException("ProcessBarrier '" + name() + "' is broken (" + why
                + "); reset() it to use it again");
    }

    /** @param deadPid the dead party that broke it, -1 for an unknown dead one, 0 for none */
    private static void breakBarrier(MemorySegment m, long deadPid) {
        if (get(m, BROKEN_OFFSET) == 0) {
            LONG.setVolatile(m, BROKEN_BY_DEAD_OFFSET, deadPid);
        }
        INT.setVolatile(m, BROKEN_OFFSET, 1);
        clearPartySlots(m);
        bumpEpoch(m);
    }

    private static void bumpEpoch(MemorySegment m) {
        INT.getAndAdd(m, EPOCH_OFFSET, 1);
        Futex.wake(m, EPOCH_OFFSET, Integer.MAX_VALUE);
    }

    /** Breaks the barrier: current and later waiters throw {@link BrokenBarrierException} until {@link #reset()}. */
    public void abort() {
        MemorySegment m = memory();
        mutex().reacquire(1);
        try {
            breakBarrier(m, 0);
        } finally {
            mutex().releaseFully();
        }
    }

    /** Breaks the current generation (its waiters throw {@link BrokenBarrierException}) and starts a fresh one. */
    public void reset() {
        MemorySegment m = memory();
        mutex().reacquire(1);
        try {
            int gen = get(m, GEN_OFFSET);
            INT.setVolatile(m, RESET_GEN_OFFSET, gen + 1);
            INT.setVolatile(m, COUNT_OFFSET, 0);
            clearPartySlots(m);
            LONG.setVolatile(m, BROKEN_BY_DEAD_OFFSET, 0L);
            INT.setVolatile(m, BROKEN_OFFSET, 0);
            INT.setVolatile(m, GEN_OFFSET, gen + 1);
            bumpEpoch(m);
        } finally {
            mutex().releaseFully();
        }
    }

    /** @return whether the barrier is broken */
    public boolean isBroken() {
        return get(memory(), BROKEN_OFFSET) != 0;
    }

    /** @return how many must call {@code await} to trip it */
    public int parties() {
        return get(memory(), PARTIES_OFFSET);
    }

    /** @return how many wait now (a snapshot) */
    public int numberWaiting() {
        return get(memory(), COUNT_OFFSET);
    }

    private static int get(MemorySegment m, long offset) {
        return (int) INT.getVolatile(m, offset);
    }

    @Override
    public String toString() {
        return "ProcessBarrier[" + name() + ", " + numberWaiting() + "/" + parties() + (isBroken() ? ", broken" : "") + "]";
    }
}
