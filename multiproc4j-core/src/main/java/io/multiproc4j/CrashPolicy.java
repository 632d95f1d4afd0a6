package io.multiproc4j;

/** What an executor does when one of its worker JVMs dies abruptly while running a task. */
public enum CrashPolicy {
    /**
     * Only the future of the task that was running fails, with {@link WorkerCrashedException}; the
     * worker is replaced and everything else goes on. The default.
     */
    FAIL_AFFECTED_TASKS,
    /**
     * Fail fast, as Python's {@code ProcessPoolExecutor} does ({@code BrokenProcessPool}): the
     * running task fails with {@link WorkerCrashedException}, every other pending future fails with
     * {@link BrokenPoolException}, and later submissions are refused.
     */
    BREAK_EXECUTOR
}
