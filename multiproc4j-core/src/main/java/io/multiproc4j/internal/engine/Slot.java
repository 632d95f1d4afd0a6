package io.multiproc4j.internal.engine;

import io.multiproc4j.internal.supervise.ExitCause;
import io.multiproc4j.internal.supervise.WorkerProcess;
import io.multiproc4j.internal.transport.WorkerLink;
import java.util.ArrayDeque;
import java.util.LinkedHashMap;

/**
 * The engine's view of one worker: what it holds, and where the engine is in ending it. Its
 * process's own state ({@link WorkerProcess.State}: READY, BUSY, RETIRING, DEAD) says whether it
 * takes work; this one says what its exit will have to settle.
 *
 * <pre>
 *   STARTING ──ready──► SERVING ──SHUTDOWN sent (it holds nothing)──► STOPPING ──┐
 *      │                  │  ▲                                                     │
 *      │                  │  └─ (READY ⇄ BUSY, retired: its process's state)       │
 *      │                  ├──it said RETIRING (memory limit)──► LEAVING ──────────┤
 *      │                  └──killed for a timeout or a cancel──► KILLING ─────────┤
 *      │                                 └─ cancel of the batch now running ─┘     │
 *      └───────────────────────────── exit (from any state): the slot goes ◄──────┘
 * </pre>
 * STARTING: not ready yet; its exit is a start failure. SERVING: ready, holding work or not,
 * retired or not (a recycled worker finishes what it holds). STOPPING: told to exit, holding
 * nothing. LEAVING: it said it retires past its memory limit and started nothing it holds, so its
 * exit requeues all of it (killed after a grace period if its exit hangs in a shutdown hook). KILLING: killed for {@link #victim()} ({@link #killedFor()} says why);
 * that batch may still finish before the exit is seen (its results were on their way), and then
 * the batch running instead is not to blame. A move not drawn here is refused ({@link #moveTo}
 * returns false, nothing changes): every move goes through {@link State#canMoveTo}.
 *
 * <p>Fields are guarded by the engine's lock unless noted.
 */
final class Slot {
    /** Where the engine is with this worker; see the class overview. */
    enum State {
        STARTING, SERVING, STOPPING, LEAVING, KILLING;

        /** @return whether the overview draws a move from this state to {@code next} */
        boolean canMoveTo(State next) {
            return switch (this) {
                case STARTING -> next == SERVING;
                case SERVING -> next == STOPPING || next == LEAVING || next == KILLING;
                case KILLING -> next == KILLING; // another victim: the batch running now was cancelled
                case STOPPING, LEAVING -> false; // nothing of it runs: only its exit is left
            };
        }
    }

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
     * The batch asked back with RECALL, or null; it gets nothing new until the answer. A request
     * under way, not a state: a worker may be asked while it serves, retired or not.
     */
    Dispatch recalling;
    /** When it last became idle (nanoTime). */
    long idleSince = System.nanoTime();
    /**
     * The worker started to take its place when it retired (recycled, memory limit), or null: its
     * exit starts no second one.
     */
    WorkerProcess replacement;
    private State state = State.STARTING;
    private Dispatch victim;
    private ExitCause killedFor;

    Slot(WorkerProcess process) {
        this.process = process;
    }

    State state() {
        return state;
    }

    /**
     * @param next where to go
     * @return {@code true} when it moved; {@code false} when the overview draws no such move
     */
    boolean moveTo(State next) {
        if (!state.canMoveTo(next)) {
            return false;
        }
        state = next;
        return true;
    }

    /**
     * SERVING (or KILLING, for another batch) → KILLING: the engine is killing it because
     * {@code batch}, running, ran past the task timeout or was cancelled. The caller kills the process.
     *
     * @param batch the batch it is killed for
     * @param why   TASK_TIMEOUT or CANCELLED
     * @return {@code false} when it was not SERVING or KILLING, or is being killed for that batch already
     */
    boolean killFor(Dispatch batch, ExitCause why) {
        if (batch == victim || !moveTo(State.KILLING)) {
            return false;
        }
        victim = batch;
        killedFor = why;
        return true;
    }

    /** @return the batch it is being killed for, or null when it is not KILLING */
    Dispatch victim() {
        return victim;
    }

    /** @return why it is being killed (TASK_TIMEOUT or CANCELLED), or null when it is not KILLING */
    ExitCause killedFor() {
        return killedFor;
    }

    /** @return whether it may be sent work: serving, and its process READY or BUSY, connected */
    boolean serving() {
        WorkerProcess.State s = process.state();
        return state == State.SERVING && link != null && (s == WorkerProcess.State.READY || s == WorkerProcess.State.BUSY);
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
