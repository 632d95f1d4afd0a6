package io.multiproc4j.sync;

import io.multiproc4j.internal.shm.LockLayout;
import io.multiproc4j.internal.shm.Segment;
import io.multiproc4j.internal.shm.SegmentLayout;
import java.io.Serial;

/**
 * A reentrant {@link java.util.concurrent.locks.Lock} shared by processes (and threads): Python's
 * {@code multiprocessing.RLock}, robust to a holder that dies. The holding thread may lock it again;
 * it is free once unlocked as many times as locked ({@link #getHoldCount()}).
 *
 * {@snippet :
 * ProcessReentrantLock lock = ProcessReentrantLock.create();
 * lock.lock();
 * lock.lock();            // same thread: hold count 2
 * lock.unlock();
 * lock.unlock();          // free
 * }
 *
 * <p>Everything else is as {@link ProcessLock}: unlock by a non-holder throws
 * {@link IllegalMonitorStateException}; blocked threads sleep in the kernel; when the holder process
 * dies, the next locker takes the lock over and {@link #recoveredFromDeadHolder()} says so. A
 * condition wait releases every hold and restores the count on return.
 */
public final class ProcessReentrantLock extends AbstractProcessLock {
    @Serial
    private static final long serialVersionUID = 1L;

    private ProcessReentrantLock(Segment segment) {
        super(segment);
    }

    /** @return a new lock with a generated name, owned by this process */
    public static ProcessReentrantLock create() {
        return create(null);
    }

    /**
     * @param name the name other processes {@link #attach} by, or null for a generated one
     * @return a new lock, owned by this process
     * @throws io.multiproc4j.shared.SharedMemoryException when the name is taken
     */
    public static ProcessReentrantLock create(String name) {
        return new ProcessReentrantLock(Segment.create(name, LockLayout.SIZE, SegmentLayout.KIND_REENTRANT_LOCK));
    }

    /**
     * @param name the name given to {@link #create(String)}
     * @return a handle on that lock
     * @throws io.multiproc4j.shared.SharedMemoryException when there is no such lock
     */
    public static ProcessReentrantLock attach(String name) {
        return new ProcessReentrantLock(attachKind(name, SegmentLayout.KIND_REENTRANT_LOCK, ProcessReentrantLock.class));
    }

    @Override
    boolean reentrant() {
        return true;
    }

    /** @return how many times the calling thread holds the lock (0 when it does not) */
    public int getHoldCount() {
        return mutex().holdCount();
    }

    @Override
    public String toString() {
        return "ProcessReentrantLock[" + name() + (isLocked() ? ", locked" : ", unlocked") + "]";
    }
}
