package io.multiproc4j.internal.engine;

import io.multiproc4j.internal.supervise.WorkerProcess;
import io.multiproc4j.internal.transport.WorkerLink;
import java.util.ArrayDeque;
import java.util.LinkedHashMap;

/** The engine's view of one worker. Fields are guarded by the engine's lock unless noted. */
final class Slot {
    final WorkerProcess process;
    /** Its connection; null until it connected. Written under the lock, read by its reader. */
    volatile WorkerLink link;
    /** Batches sent, in send order: the head is the one running. */
    final ArrayDeque<Dispatch> inflight = new ArrayDeque<>();
    /** Function ids the worker holds, eldest first (decided at assignment, in send order). */
    final LinkedHashMap<Long, Boolean> knownFunctions = new LinkedHashMap<>(16, 0.75f, true);
    long tasksDone;
    long inflightTasks;
    long headSince;
    /**
     * The batch it was killed for running past the timeout. That batch may still finish before the
     * exit is seen (its results were on their way): the batch behind it is then not to blame.
     */
    Dispatch timedOut;
    /** The running batch it was killed to cancel (the same may hold for it). */
    Dispatch cancelled;
    /** The batch asked back with RECALL; it gets nothing new until the answer. */
    Dispatch recalling;
    /** When it last became idle (nanoTime). */
    long idleSince = System.nanoTime();
    boolean everReady;
    boolean replaced;
    boolean shutdownSent;
    /** It said RETIRING: it started nothing it held, so all of it is requeued. */
    boolean selfRetired;

    Slot(WorkerProcess process) {
        this.process = process;
    }

    /** Room under maxTasksPerChild; a chunk larger than what is left still goes to an idle worker. */
    boolean hasAllowance(int maxTasks) {
        return maxTasks <= 0 || tasksDone < maxTasks && (inflight.isEmpty() || tasksDone + inflightTasks < maxTasks);
    }

    /** @return the dispatch it holds whose latest send carried {@code wireId}, or null (stale or settled) */
    Dispatch find(long wireId) {
        for (Dispatch d : inflight) {
            if (d.wireId == wireId) {
                return d;
            }
        }
        return null;
    }
}
