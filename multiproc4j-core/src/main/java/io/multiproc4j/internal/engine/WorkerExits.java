package io.multiproc4j.internal.engine;

import io.multiproc4j.TaskFailedException;
import io.multiproc4j.WorkerCrashedException;
import io.multiproc4j.WorkerRef;
import io.multiproc4j.internal.engine.ProcessEngine.RunState;
import io.multiproc4j.internal.supervise.ExitCause;
import io.multiproc4j.internal.supervise.Supervisor;
import io.multiproc4j.internal.supervise.WorkerProcess;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;

/**
 * A worker's exit, the one place where deaths are handled: the batch it was running gets what
 * {@link RetryPolicy} decides (fail with the cause of the kill or crash, or run again from its first
 * input without a result), the batches it held but never started go back to the front of the queue,
 * a worker that died before it was ready counts as a start failure ({@link
 * io.multiproc4j.internal.supervise.Crew#startFailed}), and a replacement starts while work is left.
 *
 * <h2>Concurrency</h2>
 * {@link #onExit} runs on supervision's thread under the engine's lock, normally after the worker's
 * reader has read every frame it sent; a reader slower than that finds its sends settled (stale) and
 * drops what it reads. A retry whose inputs have partly run is encoded again without those inputs
 * after the unlock ({@link #reencode}: a value's writeObject is user code), the retry held back in
 * the queue meanwhile ({@link Dispatch#reencoding}); it re-checks under the lock that the retry is
 * still queued (a cancel, shutdownNow or a break may have settled it meanwhile), so every batch ends
 * exactly once.
 */
final class WorkerExits {
    private final ProcessEngine engine;

    WorkerExits(ProcessEngine engine) {
        this.engine = engine;
    }

    /** A worker's process exited: the one place where deaths are handled. */
    void onExit(WorkerProcess process, Supervisor.Exit exit) {
        engine.lock.lock();
        try {
            Slot slot = engine.slotOf(process);
            if (slot == null) {
                return;
            }
            engine.slots.remove(slot);
            engine.counters.workerExited(process, exit);
            if (slot.state() == Slot.State.STARTING) {
                onStartFailureLocked(slot, exit);
            } else if (engine.runState != RunState.STOP && engine.runState != RunState.TERMINATED) {
                boolean abrupt = exit.cause() == ExitCause.CRASHED && !slot.inflight.isEmpty();
                failOrRetryHeldLocked(slot, exit);
                if (abrupt && engine.options.breakOnCrash()) {
                    engine.breakLocked("a worker died abruptly (" + process + ", exit code " + exit.exitCode()
                            + ") and this executor's crash policy breaks it; create a new one", null);
                }
                boolean needed = engine.runState == RunState.RUNNING || !engine.pending.isEmpty() || engine.anyInflightLocked();
                if (slot.replacement == null && needed && exit.cause() != ExitCause.IDLE) {
                    engine.spawnLocked();
                }
            }
            engine.progressLocked();
            engine.terminateIfDoneLocked();
        } finally {
            engine.unlock();
        }
    }

    private void onStartFailureLocked(Slot slot, Supervisor.Exit exit) {
        if (engine.runState != RunState.RUNNING && engine.runState != RunState.SHUTDOWN) {
            return;
        }
        if (exit.cause() == ExitCause.KILLED || exit.cause() == ExitCause.INIT_FAILED) {
            return;
        }
        // It held nothing: work goes to workers that are ready.
        requeueHeldLocked(slot);
        if (engine.crew.startFailed()) {
            engine.breakLocked("worker JVMs cannot start: " + engine.crew.whyNotStarted(slot.process, exit), null);
        } else {
            engine.spawnLocked();
        }
    }

    /**
     * Settles what a dead worker held: the batch it was running (the head) gets what
     * {@link RetryPolicy} decides; the ones behind it go back to the queue. A worker that said it
     * retires (LEAVING) started nothing it held: all of it goes back.
     */
    private void failOrRetryHeldLocked(Slot slot, Supervisor.Exit exit) {
        Dispatch head = slot.state() == Slot.State.LEAVING ? null : slot.inflight.pollFirst();
        requeueHeldLocked(slot);
        if (head == null) {
            return;
        }
        int offset = head.base + head.done;
        long index = head.batch.firstIndex() + offset;
        WorkerRef ref = slot.process.ref();
        switch (engine.retryPolicy.decide(slot, head, exit.cause())) {
            case TIMED_OUT -> engine.failLocked(head, offset, () -> engine.timeouts.failure(index, ref));
            case CANCELLED -> engine.failLocked(head, offset,
                    () -> new CancellationException("cancelled while running; its worker was killed and replaced"));
            case RUN_AGAIN -> requeueStartedLocked(head);
            case RETRY -> {
                head.attempts++;
                engine.counters.retried();
                requeueStartedLocked(head);
            }
            case CRASHED -> {
                engine.counters.crashed(slot.process, head);
                engine.failLocked(head, offset, () -> new WorkerCrashedException(index, ref, exit.exitCode(), exit.stderrTail()));
            }
        }
    }

    /**
     * A batch its dead worker had started goes back to the front. Without the inputs that have
     * results, which takes encoding the rest again: that runs after the unlock (a value's
     * writeObject is user code), the batch held back in the queue meanwhile. It also waits there
     * until the dead worker's results under delivery are delivered.
     */
    private void requeueStartedLocked(Dispatch d) {
        d.startedBefore = true;
        engine.pending.addFirst(d);
        if (d.done > 0) {
            d.reencoding = true;
            engine.deferred.add(() -> reencode(d));
        }
        if (d.delivering) {
            d.afterDelivery = engine::assignLocked;
        }
    }

    /** Encodes the inputs of a retry that have no result yet, outside the lock; then it may be sent. */
    private void reencode(Dispatch d) {
        List<Object> rest = new ArrayList<>(d.inputs.subList(d.done, d.inputs.size())); // stable: d is held back
        byte[] bytes = null;
        Exception notEncodable = null;
        try {
            bytes = engine.codec.encode(rest); // they encoded before, but a codec (or a value's writeObject) may change its mind
        } catch (IOException | RuntimeException e) {
            notEncodable = e;
        }
        engine.lock.lock();
        try {
            d.reencoding = false;
            if (!engine.pending.contains(d)) {
                return; // settled meanwhile: cancelled, shutdownNow, broken
            }
            if (notEncodable != null) {
                engine.pending.remove(d);
                long index = d.batch.firstIndex() + d.base + d.done;
                Exception why = notEncodable;
                engine.failLocked(d, d.base + d.done, () -> {
                    var cause = new IllegalStateException("task " + index
                            + " could not be encoded again to run it on another worker: " + why, why);
                    return new TaskFailedException(cause.getMessage(), cause, index, null);
                });
            } else {
                d.restart(rest, bytes);
            }
            engine.progressLocked();
            engine.terminateIfDoneLocked();
        } finally {
            engine.unlock();
        }
    }

    /** Batches it had been sent but never started go back to the front, in their order. */
    private void requeueHeldLocked(Slot slot) {
        var rest = new ArrayList<>(slot.inflight);
        for (int i = rest.size() - 1; i >= 0; i--) {
            engine.pending.addFirst(rest.get(i));
        }
        slot.inflight.clear();
        slot.inflightTasks = 0;
        slot.recalling = null;
    }
}
