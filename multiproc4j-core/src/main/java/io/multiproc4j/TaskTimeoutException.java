package io.multiproc4j;

import java.io.Serial;
import java.time.Duration;

/**
 * A task ran past the pool's {@linkplain PoolBuilder#taskTimeout task timeout}. Its worker JVM was
 * killed and replaced (a thread cannot be killed: thread pools interrupt it instead).
 */
public final class TaskTimeoutException extends TaskFailedException {
    @Serial
    private static final long serialVersionUID = 1L;

    private final Duration timeout;

    /**
     * @param taskIndex the index of the task that ran too long
     * @param worker    the worker that ran it
     * @param timeout   the limit it passed
     */
    public TaskTimeoutException(long taskIndex, WorkerRef worker, Duration timeout) {
        super("task " + taskIndex + " ran past its timeout of " + timeout.toMillis() + " ms on " + worker
                + "; the worker was killed and replaced", null, taskIndex, worker);
        this.timeout = timeout;
    }

    /** @return the timeout the task passed */
    public Duration timeout() {
        return timeout;
    }
}
