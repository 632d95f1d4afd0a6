package io.multiproc4j.sync;

import io.multiproc4j.internal.shm.RobustMutex;
import io.multiproc4j.internal.shm.Segment;
import io.multiproc4j.internal.shm.SegmentLayout;
import java.util.ArrayList;
import java.util.List;

/**
 * A read-only snapshot of a process lock, for diagnostics: who holds it and who waits for it. With
 * {@link #all()} a tool can draw the waits-for graph between processes (an edge from each waiter to
 * the holder) and find cycles, that is, deadlocks across processes.
 *
 * <p>Fields are read one by one without locking: a snapshot of a busy lock may mix two moments.
 *
 * @param name             the lock's name ({@code attach} by it)
 * @param reentrant        whether it is a {@link ProcessReentrantLock}
 * @param holder           the holder, or null when free
 * @param holdCount        the holder's hold count (0 when free)
 * @param waitingCount     threads of all processes blocked in {@code lock}/{@code tryLock}
 * @param waiters          the waiters recorded by name (at most 16; more are counted, not named)
 * @param recoveries       how many times the lock was taken over from a dead holder
 */
public record ProcessLockInfo(String name, boolean reentrant, ThreadRef holder, int holdCount, int waitingCount,
                              List<ThreadRef> waiters, long recoveries) {

    /**
     * A thread of some process.
     *
     * @param pid       the process id
     * @param startTime the process's start time (clock ticks since boot, {@code /proc/PID/stat}); 0 when unknown
     * @param threadId  {@link Thread#threadId()} within that process; 0 when not yet recorded
     * @param alive     whether that process is alive
     */
    public record ThreadRef(long pid, long startTime, long threadId, boolean alive) {}

    static ProcessLockInfo of(String name, boolean reentrant, RobustMutex.Snapshot s) {
        ThreadRef holder = s.holderPid() == 0 ? null
                : new ThreadRef(s.holderPid(), s.holderStart(), s.holderThread(), s.holderAlive());
        List<ThreadRef> waiters = new ArrayList<>();
        for (int i = 0; i < s.waiterPids().length; i++) {
            waiters.add(new ThreadRef(s.waiterPids()[i], 0, s.waiterThreads()[i], true));
        }
        return new ProcessLockInfo(name, reentrant, holder, s.holds(), s.waiting(), List.copyOf(waiters),
                s.recoveries());
    }

    /**
     * Reads every process lock on this machine (every {@code ProcessLock} and
     * {@code ProcessReentrantLock} segment in {@code /dev/shm}).
     *
     * @return one snapshot per lock
     */
    public static List<ProcessLockInfo> all() {
        List<ProcessLockInfo> infos = new ArrayList<>();
        for (Segment.Header header : Segment.listAll()) {
            boolean reentrant = header.kind() == SegmentLayout.KIND_REENTRANT_LOCK;
            if (header.kind() != SegmentLayout.KIND_LOCK && !reentrant) {
                continue;
            }
            Segment segment;
            try {
                segment = Segment.attach(header.name());
            } catch (RuntimeException e) {
                continue; // racy, but benign: removed since listed
            }
            try {
                infos.add(of(header.name(), reentrant,
                        new RobustMutex(segment.data(), 0, reentrant, header.name()).snapshot()));
            } finally {
                segment.close();
            }
        }
        return infos;
    }

    /**
     * @param pid a process id
     * @return the locks that process holds now
     */
    public static List<ProcessLockInfo> heldBy(long pid) {
        return all().stream().filter(i -> i.holder() != null && i.holder().pid() == pid).toList();
    }
}
