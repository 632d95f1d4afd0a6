package io.multiproc4j.server;

import java.time.Instant;

/**
 * One worker in a {@link Supervisor#workers()} snapshot.
 *
 * @param name           its name, such as {@code worker-3}
 * @param pid            its process id
 * @param state          where it is in its life
 * @param requestsServed requests it served so far (as of its last heartbeat)
 * @param started        when it was spawned
 * @param slot           its place in the supervisor (successors take their predecessor's slot)
 * @param restarts       how many workers held this slot before it
 * @param lastRestart    why the previous holder of the slot went (null when none did)
 */
public record WorkerInfo(String name, long pid, State state, long requestsServed, Instant started, int slot,
                         int restarts, String lastRestart) {
    /**
     * A worker's life: STARTING (spawned, not yet listening) → READY (accepting) → STOPPING (told to
     * stop accepting: reload, recycle, scale down, close; finishing its requests) → gone. A worker
     * that exits or is killed in any state is gone at once (and replaced unless it was stopping).
     */
    public enum State { STARTING, READY, STOPPING }
}
