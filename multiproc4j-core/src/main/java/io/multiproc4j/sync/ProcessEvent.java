package io.multiproc4j.sync;

import static io.multiproc4j.internal.shm.EventLayout.*;

import io.multiproc4j.internal.shm.EventLayout;
import io.multiproc4j.internal.shm.Futex;
import io.multiproc4j.internal.shm.Segment;
import io.multiproc4j.internal.shm.SegmentLayout;
import java.io.Serial;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * A flag that processes wait for: Python's {@code multiprocessing.Event}. Layout: {@link EventLayout}.
 *
 * {@snippet :
 * ProcessEvent stop = ProcessEvent.create();
 * pool.applyAsync(s -> { while (!s.isSet()) { work(); } return null; }, stop);
 * stop.set();                                   // every waiter of every process wakes
 * }
 *
 * <p>{@link #set()} wakes every waiter; {@link #clear()} makes later waits block again. Waits end
 * when the flag is seen set, so a {@code set()} quickly followed by {@code clear()} may be missed by
 * a waiter that did not run in between (as in Python).
 */
public final class ProcessEvent extends SegmentBacked {
    @Serial
    private static final long serialVersionUID = 1L;
    private static final VarHandle INT = ValueLayout.JAVA_INT.varHandle();

    private ProcessEvent(Segment segment) {
        super(segment);
    }

    /** @return a new clear event with a generated name, owned by this process */
    public static ProcessEvent create() {
        return create(null);
    }

    /**
     * @param name the name other processes {@link #attach} by, or null for a generated one
     * @return a new clear event, owned by this process
     */
    public static ProcessEvent create(String name) {
        return new ProcessEvent(Segment.create(name, EventLayout.SIZE, SegmentLayout.KIND_EVENT));
    }

    /**
     * @param name the name given to {@link #create(String)}
     * @return a handle on that event
     */
    public static ProcessEvent attach(String name) {
        return new ProcessEvent(attachKind(name, SegmentLayout.KIND_EVENT, ProcessEvent.class));
    }

    /** Sets the flag and wakes every waiter. */
    public void set() {
        MemorySegment m = memory();
        INT.setVolatile(m, FLAG_OFFSET, 1);
        if ((int) INT.getVolatile(m, WAITERS_OFFSET) > 0) {
            Futex.wake(m, FLAG_OFFSET, Integer.MAX_VALUE);
        }
    }

    /** Clears the flag. */
    public void clear() {
        INT.setVolatile(memory(), FLAG_OFFSET, 0);
    }

    /** @return whether the flag is set */
    public boolean isSet() {
        return (int) INT.getVolatile(memory(), FLAG_OFFSET) != 0;
    }

    /**
     * Waits until the flag is set.
     *
     * @throws InterruptedException when interrupted before or while waiting
     */
    public void await() throws InterruptedException {
        await(-1);
    }

    /**
     * @param timeout the most to wait
     * @param unit    its unit
     * @return whether the flag is set (false: timed out)
     * @throws InterruptedException when interrupted before or while waiting
     */
    public boolean await(long timeout, TimeUnit unit) throws InterruptedException {
        return await(Math.max(0, unit.toNanos(timeout)));
    }

    /**
     * @param timeout the most to wait
     * @return whether the flag is set (false: timed out)
     * @throws InterruptedException when interrupted before or while waiting
     */
    public boolean await(Duration timeout) throws InterruptedException {
        return await(timeout.toNanos(), TimeUnit.NANOSECONDS);
    }

    private boolean await(long timeoutNanos) throws InterruptedException {
        if (Thread.interrupted()) {
            throw new InterruptedException();
        }
        MemorySegment m = memory();
        if (isSet()) {
            return true;
        }
        long deadline = timeoutNanos < 0 ? Long.MAX_VALUE : System.nanoTime() + timeoutNanos;
        INT.getAndAdd(m, WAITERS_OFFSET, 1);
        try {
            for (;;) {
                if ((int) INT.getVolatile(m, FLAG_OFFSET) != 0) {
                    return true;
                }
                long remaining = deadline - System.nanoTime();
                if (remaining <= 0) {
                    return false;
                }
                Futex.await(m, FLAG_OFFSET, 0, remaining);
                if (Thread.interrupted()) {
                    throw new InterruptedException();
                }
            }
        } finally {
            INT.getAndAdd(m, WAITERS_OFFSET, -1);
        }
    }

    @Override
    public String toString() {
        return "ProcessEvent[" + name() + (isSet() ? ", set" : ", clear") + "]";
    }
}
