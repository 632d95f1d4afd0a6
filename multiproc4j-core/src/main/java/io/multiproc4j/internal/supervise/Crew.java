package io.multiproc4j.internal.supervise;

import io.multiproc4j.internal.supervise.WorkerProcess.LaunchSpec;
import io.multiproc4j.internal.supervise.WorkerProcess.State;
import java.time.Duration;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * The lives of a set of children of one kind under one {@link Supervisor} (a pool's workers; a
 * server's workers): naming and spawning them, the start-failure streak that says they cannot be
 * started at all, retiring one (recycled, idle, past its memory limit, shutdown) with the cause its
 * exit will carry, stopping it with a grace period after which it is killed, and replacing it.
 *
 * <pre>
 *  spawn ─► STARTING ──ready()──► READY ⇄ BUSY ──retire(why)──► RETIRING ──stop(ask)──► asked ──exit──► DEAD (why)
 *                │                                                           └── grace over ──► kill ──► DEAD (why)
 *                └── exit before ready ─► startFailed(): as many in a row as the crew's size ⇒ cannot start
 * </pre>
 *
 * <h2>Concurrency</h2>
 * Not thread-safe: its owner calls it under the owner's own lock (the owner also decides when a
 * retired child is replaced, since only it knows whether work is left). Supervision's events reach
 * the owner directly, without any lock of this class.
 */
public final class Crew {
    private static final ScheduledExecutorService GRACE;

    static {
        var timer = new ScheduledThreadPoolExecutor(1, r -> Thread.ofPlatform().daemon()
                .name("multiproc4j-stop-grace").unstarted(r));
        timer.setRemoveOnCancelPolicy(true);
        GRACE = timer;
    }

    private final Supervisor supervisor;
    private final String prefix;
    private final Function<String, LaunchSpec> specs;
    private final Duration startTimeout;
    private final int size;
    private int counter;
    private int startFailuresInARow;

    /**
     * @param supervisor   where children are spawned
     * @param prefix       children are named prefix-1, prefix-2, ...
     * @param specs        the launch spec of a child, given its name
     * @param startTimeout how long a child may stay STARTING
     * @param size         how many children the crew has when full (the start-failure limit)
     */
    public Crew(Supervisor supervisor, String prefix, Function<String, LaunchSpec> specs, Duration startTimeout,
                int size) {
        this.supervisor = supervisor;
        this.prefix = prefix;
        this.specs = specs;
        this.startTimeout = startTimeout;
        this.size = Math.max(1, size);
    }

    /**
     * Spawns a child (a first one, or the replacement of one that retired or died).
     *
     * @return the child, STARTING
     * @throws java.io.UncheckedIOException when the JVM cannot be started
     * @throws IllegalStateException        after the supervisor closed
     */
    public WorkerProcess spawn() {
        return supervisor.spawn(specs.apply(prefix + "-" + (++counter)), startTimeout);
    }

    /**
     * The child is ready for work: STARTING → READY; the start-failure streak ends.
     *
     * @param child the child
     * @return {@code false} when it is no longer STARTING (its start timed out, or it died): not ready
     */
    public boolean ready(WorkerProcess child) {
        if (!child.moveTo(State.READY)) {
            return false;
        }
        startFailuresInARow = 0;
        return true;
    }

    /**
     * A child died before it was ready.
     *
     * @return {@code true} when as many children in a row as the crew's size have failed to start:
     *     they cannot be started
     */
    public boolean startFailed() {
        return ++startFailuresInARow >= size;
    }

    /**
     * Retires a child: it gets no more work (READY/BUSY → RETIRING) and its exit will carry {@code why}.
     *
     * @param child the child
     * @param why   why it retires: RECYCLED, IDLE, MEMORY_LIMIT or SHUTDOWN
     * @return {@code true} if it retired now; {@code false} if it was not READY or BUSY
     */
    public boolean retire(WorkerProcess child, ExitCause why) {
        if (!child.moveTo(State.RETIRING)) {
            return false; // not READY or BUSY (it may have died just now)
        }
        child.retireCause(why);
        return true;
    }

    /**
     * Stops a child: records the cause (its retire cause, else SHUTDOWN), asks it to stop, and kills
     * it if it has not exited after the grace period (a task stuck in user code ignores the request).
     * A child that has no connection yet is killed at once.
     *
     * @param child      the child
     * @param askToStop  sends the owner's stop message, or null when the child cannot be asked
     * @param grace      how long it may take
     */
    public void stop(WorkerProcess child, Runnable askToStop, Duration grace) {
        child.expectExit(child.retireCause() != null ? child.retireCause() : ExitCause.SHUTDOWN);
        if (askToStop == null) {
            child.kill(ExitCause.KILLED);
            return;
        }
        askToStop.run();
        child.graceTimer(GRACE.schedule(() -> {
            if (child.process().isAlive()) {
                child.kill(ExitCause.KILLED);
            }
        }, grace.toMillis(), TimeUnit.MILLISECONDS));
    }
}
