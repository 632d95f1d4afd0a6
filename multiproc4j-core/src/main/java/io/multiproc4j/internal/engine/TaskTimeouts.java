package io.multiproc4j.internal.engine;

import io.multiproc4j.TaskTimeoutException;
import io.multiproc4j.WorkerRef;
import io.multiproc4j.internal.supervise.ExitCause;
import java.time.Duration;
import java.util.List;

/**
 * Watches the batches workers run against the pool's task timeout. A worker's running batch is the
 * head of what it holds, and {@link Slot#headSince} is when that head last made progress (it was
 * sent to an idle worker, or a result of it, or of the batch before it, arrived): a head quiet for
 * longer than the timeout has a task running past it. Code that ignores interrupts can only be
 * stopped by killing its JVM, so the worker is killed for that batch ({@link Slot#killFor}); its
 * exit, seen by supervision, fails the batch with {@link TaskTimeoutException}
 * ({@link RetryPolicy}). With a timeout set, workers send each task's result as it finishes (the
 * Setup message says so), so a long chunk of quick tasks is not mistaken for one long task.
 *
 * <p>Concurrency: {@link #killOverdue} runs on the engine's timer thread under the engine's lock.
 */
final class TaskTimeouts {
    private final Duration timeout;
    private final long timeoutNanos;

    TaskTimeouts(Duration timeout) {
        this.timeout = timeout;
        this.timeoutNanos = timeout.toNanos();
    }

    /** @return how often to look: a tenth of the timeout, between 5 and 100 ms */
    long periodMillis() {
        return Math.clamp(timeout.toMillis() / 10, 5, 100);
    }

    /**
     * Kills each serving worker whose running batch has run past the timeout. One already being
     * killed is left alone: what its exit settles is decided already.
     *
     * @param slots the engine's workers (under the engine's lock)
     * @param now   {@link System#nanoTime()}
     */
    void killOverdue(List<Slot> slots, long now) {
        for (Slot slot : slots) {
            Dispatch head = slot.inflight.peekFirst();
            if (head != null && slot.state() == Slot.State.SERVING && now - slot.headSince > timeoutNanos
                    && slot.killFor(head, ExitCause.TASK_TIMEOUT)) {
                slot.process.kill(ExitCause.TASK_TIMEOUT);
            }
        }
    }

    /**
     * @param index  the task that ran past the timeout
     * @param worker the worker that was killed for it
     * @return the failure its batch gets
     */
    TaskTimeoutException failure(long index, WorkerRef worker) {
        return new TaskTimeoutException(index, worker, timeout);
    }
}
