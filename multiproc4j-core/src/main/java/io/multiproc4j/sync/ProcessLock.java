package io.multiproc4j.sync;

import io.multiproc4j.internal.shm.LockLayout;
import io.multiproc4j.internal.shm.Segment;
import io.multiproc4j.internal.shm.SegmentLayout;
import java.io.Serial;

/**
 * A {@link java.util.concurrent.locks.Lock} shared by processes (and threads): Python's
 * {@code multiprocessing.Lock}, made robust to a holder that dies.
 *
 * {@snippet :
 * ProcessLock lock = ProcessLock.create();                 // serializable: capture it in tasks
 * SharedLong plain = SharedLong.createUnsynchronized(0);
 * pool.map(i -> {
 *     lock.lock();
 *     try {
 *         if (lock.recoveredFromDeadHolder()) { repair(plain); }   // the last holder died mid-update
 *         plain.set(plain.get() + 1);
 *     } finally {
 *         lock.unlock();
 *     }
 *     return null;
 * }, range(0, 10_000));
 * }
 *
 * <h2>Semantics</h2>
 * <ul>
 *   <li>Owned by a thread: {@link #unlock()} by any other thread (of any process) throws
 *       {@link IllegalMonitorStateException}. Not reentrant: {@link #tryLock()} by the holder returns
 *       false, and {@link #lock()} by the holder throws {@code IllegalMonitorStateException} instead
 *       of deadlocking. Use {@link ProcessReentrantLock} to lock again.</li>
 *   <li>Not fair: a releasing thread may take it again before a woken waiter.</li>
 *   <li>Blocked threads sleep in the kernel ({@code futex}) after a short spin; they wake at most
 *       every 50 ms to check for interrupts and for a dead holder.</li>
 * </ul>
 *
 * <h2>When the holder dies</h2>
 * The lock records its holder (pid, process start time, thread id). When the holder process dies
 * while holding it, the next locker, after at most about 50 ms of waiting, takes the lock over and
 * finds {@link #recoveredFromDeadHolder()} true for this hold. Nothing else changes: no exception,
 * so code written for {@code Lock} keeps working; code that cares checks the flag. A live process
 * that never unlocks is a deadlock, not a death: {@link #info()} shows who holds and who waits.
 *
 * <h2>Lifetime</h2>
 * {@link #create()} makes a segment owned by this process; {@link #close()} removes it. Handles
 * deserialized in workers or made by {@link #attach} do not.
 */
public final class ProcessLock extends AbstractProcessLock {
    @Serial
    private static final long serialVersionUID = 1L;

    private ProcessLock(Segment segment) {
        super(segment);
    }

    /** @return a new lock with a generated name, owned by this process */
    public static ProcessLock create() {
        return create(null);
    }

    /**
     * @param name the name other processes {@link #attach} by, or null for a generated one
     * @return a new lock, owned by this process
     * @throws io.multiproc4j.shared.SharedMemoryException when the name is taken
     */
    public static ProcessLock create(String name) {
        return new ProcessLock(Segment.create(name, LockLayout.SIZE, SegmentLayout.KIND_LOCK));
    }

    /**
     * @param name the name given to {@link #create(String)}
     * @return a handle on that lock
     * @throws io.multiproc4j.shared.SharedMemoryException when there is no such lock
     */
    public static ProcessLock attach(String name) {
        return new ProcessLock(attachKind(name, SegmentLayout.KIND_LOCK, ProcessLock.class));
    }

    @Override
    boolean reentrant() {
        return false;
    }

    @Override
    public String toString() {
        return "ProcessLock[" + name() + (isLocked() ? ", locked" : ", unlocked") + "]";
    }
}
