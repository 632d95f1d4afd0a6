package io.multiproc4j.internal.engine;

import io.multiproc4j.TaskFailedException;
import io.multiproc4j.WorkerRef;
import io.multiproc4j.internal.codec.RemoteFailure;
import io.multiproc4j.internal.supervise.ExitCause;
import io.multiproc4j.internal.supervise.WorkerProcess.State;
import io.multiproc4j.internal.transport.WorkerMessage;
import java.io.IOException;
import java.util.List;
import java.util.function.LongFunction;

/**
 * What one worker says, handled on its reader thread: READY (it serves), INIT_FAILED (the engine
 * breaks), RESULTS (delivered to its batch), FAILED (its batch ends there), RECALLED (a batch it
 * had not started goes back to the queue) and RETIRING (past its memory limit, it leaves without
 * starting what it holds).
 *
 * <h2>Concurrency</h2>
 * One reader per worker calls {@link #onMessage} for that worker's frames in order. Decoding (user
 * classes, a user's exception) runs outside the engine's lock; the bookkeeping runs under it, and
 * re-checks there that the send a message names (its wire id) is still held by this worker: its
 * exit, seen by supervision meanwhile, may have settled it ({@link WorkerExits}). Results are
 * delivered outside the lock by this thread alone, so a batch's deliveries are ordered; while one is
 * under way its dispatch is {@code delivering} and what the worker's exit decides for it waits for
 * the delivery ({@link Dispatch#afterDelivery}). The hot path (RESULTS) takes the lock twice and
 * allocates nothing of its own.
 */
final class WorkerReplies {
    /** A worker that said it retires is leaving already: it is not asked to stop. */
    private static final Runnable NOTHING_TO_SEND = () -> { };

    private final ProcessEngine engine;

    WorkerReplies(ProcessEngine engine) {
        this.engine = engine;
    }

    void onMessage(Slot slot, WorkerMessage message) throws IOException {
        switch (message) {
            case WorkerMessage.Ready ready -> onReady(slot);
            case WorkerMessage.InitFailed(byte[] failure) -> onInitFailed(slot, failure);
            case WorkerMessage.Results results -> onResults(slot, results);
            case WorkerMessage.Failed failed -> onFailed(slot, failed);
            case WorkerMessage.Retiring retiring -> onRetiring(slot);
            case WorkerMessage.Recalled recalled -> onRecalled(slot, recalled);
            default -> throw new IOException("unexpected " + message.type() + " from " + slot.process);
        }
    }

    private void onReady(Slot slot) {
        engine.lock.lock();
        try {
            if (slot.process.state() != State.STARTING) {
                return;
            }
            if (!engine.crew.ready(slot.process)) {
                return; // its start timed out just now: it is being killed
            }
            slot.moveTo(Slot.State.SERVING);
            slot.idleSince = System.nanoTime();
            engine.progressLocked();
        } finally {
            engine.unlock();
        }
    }

    private void onInitFailed(Slot slot, byte[] failure) throws IOException {
        Throwable cause = RemoteFailure.decode(failure, engine.codec);
        slot.process.expectExit(ExitCause.INIT_FAILED);
        engine.lock.lock();
        try {
            engine.breakLocked("the initializer failed in " + slot.process + ": " + cause, cause);
        } finally {
            engine.unlock();
        }
    }

    private void onResults(Slot slot, WorkerMessage.Results message) {
        long wireId = message.batchId();
        int offset = message.offset();
        Dispatch d = find(slot, wireId);
        if (d == null) {
            return; // stale: an earlier send's (its worker's exit settled it), or failed by terminate()
        }
        List<?> results;
        try {
            // packed results stay packed, a view of the frame as it was read (no copy)
            results = io.multiproc4j.internal.codec.StandardCodec.decodeResults(engine.codec, message.bytes(),
                    message.at(), message.size());
        } catch (IOException | ClassNotFoundException | RuntimeException e) {
            WorkerRef ref = slot.process.ref();
            finishFailed(slot, wireId, offset, index -> {
                var cause = new IllegalStateException("the result of task " + index + " could not be decoded in the pool: " + e, e);
                return new TaskFailedException(cause.getMessage(), cause, index, ref);
            });
            return;
        }
        int at;
        boolean complete;
        engine.lock.lock();
        try {
            // Decoded outside the lock: meanwhile the worker's exit may have settled the batch (retried
            // from where it stood, on another worker, or failed). Its results are then stale: dropped,
            // or the retry's own would arrive at an offset its batch has passed.
            if (slot.find(wireId) != d || offset != d.done) {
                return;
            }
            at = d.base + offset; // read here: a retry moves base
            d.done = offset + results.size();
            slot.headSince = System.nanoTime();
            slot.tasksDone += results.size();
            slot.inflightTasks -= results.size();
            complete = d.done >= d.inputs.size();
            engine.counters.tasksDelivered(results.size());
            if (complete) {
                slot.inflight.remove(d);
                engine.counters.batchDone(slot.process, d, false);
            } else {
                d.delivering = true; // its batch sees these results before anything its worker's exit decides
            }
        } finally {
            engine.unlock();
        }
        try {
            d.batch.deliver(at, results);
        } finally {
            if (complete) {
                afterBatch(slot);
            } else {
                deliveryDone(d);
            }
        }
    }

    /** A delivery of part of a batch is done: what the worker's exit decided meanwhile happens now. */
    private void deliveryDone(Dispatch d) {
        engine.lock.lock();
        try {
            d.delivering = false;
            Runnable then = d.afterDelivery;
            d.afterDelivery = null;
            if (then != null) {
                then.run();
            }
        } finally {
            engine.unlock();
        }
    }

    private void onFailed(Slot slot, WorkerMessage.Failed message) throws IOException {
        Throwable cause = RemoteFailure.decode(message.failure(), engine.codec);
        WorkerRef ref = slot.process.ref();
        finishFailed(slot, message.batchId(), message.offset(), index -> new TaskFailedException(
                "task " + index + " failed on " + ref + ": " + cause, cause, index, ref));
    }

    private Dispatch find(Slot slot, long wireId) {
        engine.lock.lock();
        try {
            return slot.find(wireId);
        } finally {
            engine.unlock();
        }
    }

    /**
     * The task at {@code offset} of the send {@code wireId} failed; nothing if that send is stale.
     * {@code failureAt} runs after the unlock: its message prints a user's exception.
     */
    private void finishFailed(Slot slot, long wireId, int offset, LongFunction<TaskFailedException> failureAt) {
        engine.lock.lock();
        try {
            Dispatch d = slot.find(wireId);
            if (d == null) {
                return; // its worker's exit settled it already, or terminate() did
            }
            slot.inflight.remove(d);
            slot.tasksDone += offset + 1 - d.done;
            slot.inflightTasks -= d.inputs.size() - d.done;
            slot.headSince = System.nanoTime();
            engine.counters.batchDone(slot.process, d, true);
            long index = d.batch.firstIndex() + d.base + offset;
            engine.failLocked(d, d.base + offset, () -> failureAt.apply(index));
            engine.afterBatchLocked(slot);
        } finally {
            engine.unlock();
        }
    }

    /** The worker answered RECALL: a batch it had not started comes back to the queue. */
    private void onRecalled(Slot slot, WorkerMessage.Recalled message) {
        engine.lock.lock();
        try {
            Dispatch d = slot.recalling;
            slot.recalling = null;
            if (message.recalled() && d != null && d.wireId == message.batchId() && slot.inflight.remove(d)) {
                slot.inflightTasks -= d.remaining();
                if (d.carriedFunction) {
                    slot.knownFunctions.remove(d.batch.functionId()); // the worker never decoded it
                }
                engine.pending.addFirst(d);
                engine.counters.recalled();
            }
            if (slot.inflight.isEmpty() && slot.process.state() == State.BUSY) {
                slot.process.moveTo(State.READY);
                slot.idleSince = System.nanoTime();
            }
            if (slot.process.state() == State.RETIRING && slot.inflight.isEmpty()) {
                engine.sendShutdownLocked(slot);
            }
            engine.progressLocked();
        } finally {
            engine.unlock();
        }
    }

    /** The worker passed its memory limit between batches and is exiting without starting another. */
    private void onRetiring(Slot slot) {
        engine.lock.lock();
        try {
            slot.process.expectExit(ExitCause.MEMORY_LIMIT);
            engine.retireLocked(slot, ExitCause.MEMORY_LIMIT);
            if (slot.moveTo(Slot.State.LEAVING)) {
                // It exits by itself: nothing to send it. But its exit runs shutdown hooks (user
                // code), and what it holds is requeued only at its exit: killed after the grace.
                engine.crew.stop(slot.process, NOTHING_TO_SEND, ProcessEngine.SHUTDOWN_GRACE);
            }
        } finally {
            engine.unlock();
        }
    }

    /** Recycles the worker if it has done its share of tasks, then hands out more work. */
    private void afterBatch(Slot slot) {
        engine.lock.lock();
        try {
            engine.afterBatchLocked(slot);
        } finally {
            engine.unlock();
        }
    }
}
