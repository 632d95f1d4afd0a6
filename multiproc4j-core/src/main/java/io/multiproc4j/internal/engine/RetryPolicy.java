package io.multiproc4j.internal.engine;

import io.multiproc4j.internal.supervise.ExitCause;

/**
 * What happens to the batch a worker was running when it died (the head of what it held; the
 * batches behind it never started and simply go back to the queue). The exit's one cause decides:
 * <pre>
 *   killed by the engine (TASK_TIMEOUT, CANCELLED) for this very batch ─► TIMED_OUT / CANCELLED: it fails
 *   killed by the engine for another batch, which finished before the exit was seen
 *       (its results were on their way when the kill came) ─► RUN_AGAIN: not to blame, no attempt counted
 *   died on its own, attempts left, not cancelled ─► RETRY: again from its first input without a result
 *   died on its own, no attempt left ─► CRASHED: it fails with WorkerCrashedException
 * </pre>
 * Only the decision lives here; the engine applies it (requeue at the front, or fail where its
 * results end, after any delivery under way).
 */
final class RetryPolicy {
    /** What the dead worker's running batch gets. */
    enum Verdict { TIMED_OUT, CANCELLED, RUN_AGAIN, RETRY, CRASHED }

    private final int retries;

    /** @param retries how many times a batch whose worker died on its own runs again */
    RetryPolicy(int retries) {
        this.retries = retries;
    }

    /**
     * @param slot  the dead worker
     * @param head  the batch it was running
     * @param cause its exit's cause
     * @return what that batch gets
     */
    Verdict decide(Slot slot, Dispatch head, ExitCause cause) {
        boolean killedByEngine = cause == ExitCause.TASK_TIMEOUT || cause == ExitCause.CANCELLED;
        if (killedByEngine && head == slot.victim()) {
            return slot.killedFor() == ExitCause.TASK_TIMEOUT ? Verdict.TIMED_OUT : Verdict.CANCELLED;
        }
        if (killedByEngine) {
            return Verdict.RUN_AGAIN;
        }
        return head.attempts < retries && !head.batch.isCancelled() ? Verdict.RETRY : Verdict.CRASHED;
    }
}
