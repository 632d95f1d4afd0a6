package io.multiproc4j.sync;

import static io.multiproc4j.internal.shm.SemaphoreLayout.*;

import io.multiproc4j.internal.shm.Futex;
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
 * The permit count is the futex word and changes by compare-and-set only; an acquirer that finds
 * none registers as a waiter, then sleeps while the count is 0. A release wakes one sleeper when
 * the waiter count is not 0; a waiter that registers after the release read it finds the count
 * above 0 in the kernel's compare, so no wakeup is lost.
 *
 * <h2>Crash handling</h2>
 * A semaphore has no owner: permits held by a process that dies are lost (as in Python). A bounded
 * semaphore at least refuses releases beyond its bound with {@link IllegalStateException}.
 */
public final class ProcessSemaphore extends SegmentBacked {
    @Serial
    private static final long serialVersionUID = 1L;
    private static final VarHandle INT = ValueLayout.JAVA_INT.varHandle();

    private ProcessSemaphore(Segment segment) {
        super(segment);
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

    /** @return whether a permit was available and is now taken */
    public boolean tryAcquire() {
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
        if (tryAcquire()) {
            return true;
        }
        long deadline = timeoutNanos < 0 ? Long.MAX_VALUE : System.nanoTime() + timeoutNanos;
        MemorySegment m = memory();
        INT.getAndAdd(m, WAITERS_OFFSET, 1);
        try {
            for (;;) {
                if (tryAcquire()) {
                    return true;
                }
                long remaining = deadline - System.nanoTime();
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

    /**
     * Returns a permit and wakes one waiter (of any process).
     *
     * @throws IllegalStateException when the semaphore is bounded and already holds its bound
     */
    public void release() {
        MemorySegment m = memory();
        int bound = (int) INT.getVolatile(m, BOUND_OFFSET);
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

    /** @return the bound, or -1 when unbounded */
    public int bound() {
        return (int) INT.getVolatile(memory(), BOUND_OFFSET);
    }

    @Override
    public String toString() {
        return "ProcessSemaphore[" + name() + ", " + availablePermits() + " permits]";
    }
}
