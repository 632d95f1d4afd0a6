package io.multiproc4j.internal.supervise;

/**
 * Why a supervised JVM exited: one cause per exit. The first intent recorded before the exit wins
 * ({@link WorkerProcess#expectExit}, {@link WorkerProcess#kill(ExitCause)}); an exit nobody asked
 * for is {@link #START_FAILED} before the handshake and {@link #CRASHED} after it.
 */
public enum ExitCause {
    /** Told to stop (pool closed, server stopped) and did. */
    SHUTDOWN,
    /** Recycled after its share of tasks. */
    RECYCLED,
    /** Retired itself past its memory limit. */
    MEMORY_LIMIT,
    /** Retired after being idle past the idle timeout. */
    IDLE,
    /** Killed because its task ran past the task timeout. */
    TASK_TIMEOUT,
    /** Killed to stop a running task that was cancelled. */
    CANCELLED,
    /** Killed by its owner (terminate, broken pool, shutdown grace ended). */
    KILLED,
    /** Did not complete the handshake within the start timeout; killed. */
    START_TIMEOUT,
    /** Exited before completing the handshake. */
    START_FAILED,
    /** Its initializer failed. */
    INIT_FAILED,
    /** Died on its own: exit, signal, out of memory. */
    CRASHED
}
