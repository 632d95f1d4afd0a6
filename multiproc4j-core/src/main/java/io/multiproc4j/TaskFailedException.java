package io.multiproc4j;

import java.io.Serial;

/**
 * A task did not produce a result. The {@linkplain #getCause() cause} is the task's own exception
 * (same type and message, with the remote stack trace) when it could be carried back, else a
 * {@link RemoteTaskException}. Subclasses say when the worker itself was lost:
 * {@link WorkerCrashedException} and {@link TaskTimeoutException}.
 */
public class TaskFailedException extends RuntimeException {
    @Serial
    private static final long serialVersionUID = 1L;

    private final long taskIndex;
    private final WorkerRef worker;

    /**
     * @param message   what happened
     * @param cause     the task's exception, or what stopped it
     * @param taskIndex the index of the failed task in its call's inputs
     * @param worker    the worker that ran it, or {@code null} when it never reached one
     */
    public TaskFailedException(String message, Throwable cause, long taskIndex, WorkerRef worker) {
        super(message, cause);
        this.taskIndex = taskIndex;
        this.worker = worker;
    }

    /** @return the index of the failed task in its call's inputs (0 for {@code applyAsync}) */
    public long taskIndex() {
        return taskIndex;
    }

    /** @return the worker that ran the task, or {@code null} when the task never reached one */
    public WorkerRef worker() {
        return worker;
    }
}
