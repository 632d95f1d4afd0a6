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
 * started at all, recycling (a child's share of tasks: when it may take more, when it is done),
 * idle retirement ({@link #retireIfIdle}), retiring one (recycled, idle, past its memory limit, shutdown) with the cause its exit will
 * carry, stopping it with a grace period after which it is killed, and which retirements are
 * replaced at once.
 *
 * <pre>
 *  spawn ─► STARTING ──ready()──► READY ⇄ BUSY ──retire(why)──► RETIRING ──stop(ask)──► asked ──exit──► DEAD (why)
 *                │                      │   ▲                                  └── grace over ──► kill ──► DEAD (why)
 *                │                      └───┴─ mayTake(done, held): room under maxTasksPerChild;
 *                │                             recycleIfDue(done): its share done ⇒ retire(RECYCLED)
 *                │                             retireIfIdle(since, now, timeout): READY too long ⇒ retire(IDLE)
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
    private final int maxTasksPerChild;
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
        this(supervisor, prefix, specs, startTimeout, size, 0);
    }

    /**
     * @param supervisor       where children are spawned
     * @param prefix           children are named prefix-1, prefix-2, ...
     * @param specs            the launch spec of a child, given its name
     * @param startTimeout     how long a child may stay STARTING
     * @param size             how many children the crew has when full (the start-failure limit)
     * @param maxTasksPerChild a child is recycled after this many tasks; 0 = never
     */
    public Crew(Supervisor supervisor, String prefix, Function<String, LaunchSpec> specs, Duration startTimeout,
                int size, int maxTasksPerChild) {
        this.supervisor = supervisor;
        this.prefix = prefix;
        this.specs = specs;
        this.startTimeout = startTimeout;
        this.size = Math.max(1, size);
        this.maxTasksPerChild = maxTasksPerChild;
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
     * @param child a child that died before it was ready
     * @param exit  how it ended
     * @return what a user is told: a start timeout or its exit code, and its last lines of standard error
     */
    public String whyNotStarted(WorkerProcess child, Supervisor.Exit exit) {
        String why = exit.cause() == ExitCause.START_TIMEOUT
                ? "did not start within " + startTimeout.toMillis() + " ms"
                : "exited with code " + exit.exitCode() + " before it was ready";
        return child + " " + why
                + (exit.stderrTail().isEmpty() ? "" : "; its stderr:\n  " + String.join("\n  ", exit.stderrTail()));
    }

    /**
     * Whether a child may be sent more tasks under maxTasksPerChild. One that holds nothing takes a
     * chunk even when it is larger than what is left of its share: otherwise a chunk larger than
     * the share would never run.
     *
     * @param tasksDone the tasks it has finished
     * @param tasksHeld the tasks it holds, sent and not finished
     * @return {@code true} when it has room
     */
    public boolean mayTake(long tasksDone, long tasksHeld) {
        return maxTasksPerChild <= 0
                || tasksDone < maxTasksPerChild && (tasksHeld == 0 || tasksDone + tasksHeld < maxTasksPerChild);
    }

    /**
     * A child finished tasks: once it has done its share of maxTasksPerChild it is retired as
     * RECYCLED. It finishes what it holds; its owner stops it when it holds nothing.
     *
     * @param child     the child
     * @param tasksDone the tasks it has finished, in all
     * @return {@code true} when it retired now
     */
    public boolean recycleIfDue(WorkerProcess child, long tasksDone) {
        return maxTasksPerChild > 0 && tasksDone >= maxTasksPerChild && retire(child, ExitCause.RECYCLED);
    }

    /**
     * Whether a child retired for {@code why} is replaced at once, while it finishes what it holds:
     * a recycled one and one past its memory limit are (the crew keeps its size); an idle one and a
     * shut-down one are not (an owner starting on demand starts another when work comes).
     *
     * @param why its retire cause
     * @return {@code true} when its owner should start a replacement now, if work is left
     */
    public static boolean replacedAtRetire(ExitCause why) {
        return why == ExitCause.RECYCLED || why == ExitCause.MEMORY_LIMIT;
    }

    /**
     * @param idleTimeout how long a child may stay idle
     * @return how often to look for idle children: a quarter of the timeout, between 10 ms and 1 s
     */
    public static long idleCheckPeriodMillis(Duration idleTimeout) {
        return Math.clamp(idleTimeout.toMillis() / 4, 10, 1000);
    }

    /**
     * Retires a child idle past {@code idleTimeout} as IDLE: READY, holding nothing, since
     * {@code idleSince}. It is not replaced ({@link #replacedAtRetire}); an owner starting on demand
     * starts another when work comes. Its owner then stops it ({@link #stop}).
     *
     * @param child       the child
     * @param idleSince   when it last became idle ({@link System#nanoTime()})
     * @param now         {@link System#nanoTime()}
     * @param idleTimeout how long a child may stay idle
     * @return {@code true} when it retired now
     */
    public boolean retireIfIdle(WorkerProcess child, long idleSince, long now, Duration idleTimeout) {
        return child.state() == State.READY && now - idleSince > idleTimeout.toNanos() && retire(child, ExitCause.IDLE);
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
