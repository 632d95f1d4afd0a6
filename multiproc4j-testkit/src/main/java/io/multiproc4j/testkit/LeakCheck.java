package io.multiproc4j.testkit;

import io.multiproc4j.internal.shm.Segment;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;
import java.util.function.Predicate;
import java.util.stream.Collectors;

/**
 * Baseline-and-compare for soak tests of this JVM: descriptors, threads, {@code /dev/shm} segments
 * whose header names this JVM (or one of the pids given) as owner, socket directories of ours in the
 * temporary directory ({@code multiproc4j-<pid>-*}, {@code mp4j-manager-<pid>-*}), and the heap's
 * live set after a full collection.
 *
 * <p>Other engineers' and tests' entries in the shared directories are never counted: only names
 * that carry our pid, or segments whose header does.
 */
public final class LeakCheck {
    /** Threads the JVM itself may add during a soak: JIT compiler threads and virtual-thread carriers. */
    public static final int JDK_THREAD_SLACK = 4;
    /** Descriptors the JDK may open lazily once (a jar of the class path, an epoll instance of its poller). */
    public static final int JDK_FD_SLACK = 3;
    /**
     * Live heap the JDK keeps after a full GC once warmed: serialization and reflection caches
     * (ObjectStreamClass, MethodType, proxy classes) filled by the first cycles, not growing after.
     */
    public static final long HEAP_SLACK_BYTES = 24L << 20;

    private final long pid = ProcessHandle.current().pid();
    private final Set<Long> owners;
    private final ProcessResources.Snapshot baseline;
    private final long heapBaseline;

    private LeakCheck(Set<Long> extraOwners) {
        this.owners = extraOwners;
        this.baseline = ProcessResources.snapshot(pid, ours(), directories());
        this.heapBaseline = liveHeap();
    }

    /** @return a baseline taken now; call it after a warm-up cycle */
    public static LeakCheck baseline() {
        return new LeakCheck(java.util.concurrent.ConcurrentHashMap.newKeySet());
    }

    /** @param childPid a process of ours whose segments count as ours too (a worker) */
    public void alsoOwnedBy(long childPid) {
        owners.add(childPid);
    }

    private static Path[] directories() {
        return new Path[] {Segment.DIRECTORY, Path.of(System.getProperty("java.io.tmpdir"))};
    }

    private Predicate<String> ours() {
        String pidText = Long.toString(pid);
        return name -> {
            if (name.startsWith("multiproc4j-" + pidText + "-") || name.startsWith("mp4j-manager-" + pidText + "-")) {
                return true;
            }
            return name.startsWith("mp4j-") && ownedSegments().contains(name);
        };
    }

    private Set<String> ownedSegments() {
        return Segment.listAll().stream().filter(h -> h.ownerPid() == pid || owners.contains(h.ownerPid()))
                .map(h -> "mp4j-" + h.name()).collect(Collectors.toSet());
    }

    /** @return the bytes of heap in use after a full collection */
    public static long liveHeap() {
        long best = Long.MAX_VALUE;
        for (int i = 0; i < 3; i++) {  // a collection may leave finalizable or reference-queued objects for the next
            System.gc();
            best = Math.min(best, ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed());
        }
        return best;
    }

    /** @return what was measured at the baseline */
    public ProcessResources.Snapshot baselineSnapshot() {
        return baseline;
    }

    /**
     * Waits (up to {@code timeout}) for descriptors, threads, segments and socket directories to be
     * back at the baseline within the JDK's slack, then checks the heap.
     *
     * @param timeout how long releases may take (workers exit, cleaners run)
     * @return the final snapshot
     */
    public ProcessResources.Snapshot assertBack(Duration timeout) {
        ProcessResources.Snapshot now = ProcessResources.awaitBack(pid, baseline, JDK_FD_SLACK, JDK_THREAD_SLACK, ours(),
                timeout, directories());
        long[] heap = new long[1];
        try {
            Conditions.await("the live heap back within " + (HEAP_SLACK_BYTES >> 20) + " MiB of its baseline "
                    + (heapBaseline >> 20) + " MiB", timeout, () -> (heap[0] = liveHeap()) <= heapBaseline + HEAP_SLACK_BYTES);
        } catch (AssertionError e) {
            throw new AssertionError(e.getMessage() + "; last seen " + (heap[0] >> 20) + " MiB", e);
        }
        return now;
    }
}
