package io.multiproc4j;

import java.util.Map;

/**
 * What a pool has done so far, from {@link Pool#stats()}: a snapshot, cheap to take. For a pool of
 * threads, workers are its threads (never recycled, never exiting while it runs); for a pool of
 * processes, its worker JVMs.
 *
 * @param workersStarted how many workers were started (replacements included)
 * @param workersExited  how many workers exited, by cause: {@code SHUTDOWN}, {@code RECYCLED},
 *                       {@code MEMORY_LIMIT}, {@code IDLE}, {@code TASK_TIMEOUT}, {@code CANCELLED},
 *                       {@code KILLED}, {@code START_TIMEOUT}, {@code START_FAILED},
 *                       {@code INIT_FAILED}, {@code CRASHED} (only causes seen are present)
 * @param recycled       how many workers were retired for {@code maxTasksPerChild} or the memory limit
 * @param batchesDone    chunks that ended, with all results or a failure
 * @param tasksDone      tasks that returned a result
 * @param tasksFailed    chunks that ended with a failure (a task threw, a worker crashed, a timeout)
 * @param retried        chunks run again after their worker died
 */
public record PoolStats(long workersStarted, Map<String, Long> workersExited, long recycled, long batchesDone,
                        long tasksDone, long tasksFailed, long retried) {
    /** Copies the map. */
    public PoolStats {
        workersExited = Map.copyOf(workersExited);
    }

    /** @return how many workers exited, whatever the cause */
    public long workersExitedTotal() {
        return workersExited.values().stream().mapToLong(Long::longValue).sum();
    }
}
