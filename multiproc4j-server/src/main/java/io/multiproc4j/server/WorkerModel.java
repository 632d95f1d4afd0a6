package io.multiproc4j.server;

import java.time.Duration;
import java.util.Objects;

/**
 * How many workers a {@link Supervisor} runs: a fixed number started beforehand ({@link #prefork}),
 * none until there is work ({@link #onDemand}), or a minimum beforehand and more under load
 * ({@link #hybrid}).
 *
 * <h2>The autoscaling rule (onDemand and hybrid)</h2>
 * Every {@value #SAMPLE_MILLIS} ms the supervisor samples two signals: <em>queued connections</em>
 * (a listening socket it holds has a connection waiting to be accepted, or, with
 * {@link PortSharing#ACCEPTOR}, a request waits for a free worker) and each worker's <em>busy
 * fraction</em> (the share of the last interval during which it was running at least one request,
 * from its heartbeat). It starts one worker more (up to {@code max}, one start at a time) when the
 * mean busy fraction is at least {@value #SCALE_UP_BUSY} or connections were queued on two samples
 * in a row; with no worker at all, the first queued connection starts one. It stops one worker (down
 * to {@code min}) when the mean busy fraction stayed below {@value #SCALE_DOWN_BUSY} with nothing
 * queued for {@code idleTimeout}.
 *
 * @param min         workers kept even when idle
 * @param max         workers at most
 * @param idleTimeout how long the load must stay low before one worker is stopped
 */
public record WorkerModel(int min, int max, Duration idleTimeout) {
    /** The autoscaler's sampling period, in milliseconds. */
    public static final int SAMPLE_MILLIS = 250;
    /** Mean busy fraction at or above which one worker is added. */
    public static final double SCALE_UP_BUSY = 0.75;
    /** Mean busy fraction below which (for idleTimeout) one worker is removed. */
    public static final double SCALE_DOWN_BUSY = 0.25;
    /** The idle timeout of {@link #hybrid(int, int)}. */
    public static final Duration DEFAULT_IDLE = Duration.ofSeconds(10);

    /**
     * @param min         workers kept even when idle
     * @param max         workers at most
     * @param idleTimeout how long the load must stay low before one worker is stopped
     */
    public WorkerModel {
        Objects.requireNonNull(idleTimeout, "idleTimeout");
        if (max < 1) {
            throw new IllegalArgumentException("a server needs at least 1 worker, got max = " + max);
        }
        if (min < 0) {
            throw new IllegalArgumentException("min must be 0 or more, got " + min);
        }
        if (min > max) {
            throw new IllegalArgumentException("min (" + min + ") is greater than max (" + max
                    + "): give min <= max");
        }
        if (idleTimeout.isNegative() || idleTimeout.isZero()) {
            throw new IllegalArgumentException("idleTimeout must be positive, got " + idleTimeout);
        }
    }

    /**
     * @param workers how many workers, all started before {@link Supervisor.Builder#start()} returns
     * @return a fixed model
     */
    public static WorkerModel prefork(int workers) {
        if (workers < 1) {
            throw new IllegalArgumentException("prefork needs at least 1 worker, got " + workers);
        }
        return new WorkerModel(workers, workers, DEFAULT_IDLE);
    }

    /**
     * @param max         workers at most
     * @param idleTimeout how long the load must stay low before one worker is stopped
     * @return a model that starts with no worker and starts them when connections come
     */
    public static WorkerModel onDemand(int max, Duration idleTimeout) {
        return new WorkerModel(0, max, idleTimeout);
    }

    /**
     * @param min workers started beforehand and kept
     * @param max workers at most
     * @return a model scaled between min and max by the rule above, idle timeout {@link #DEFAULT_IDLE}
     */
    public static WorkerModel hybrid(int min, int max) {
        return new WorkerModel(min, max, DEFAULT_IDLE);
    }

    /**
     * @param min         workers started beforehand and kept
     * @param max         workers at most
     * @param idleTimeout how long the load must stay low before one worker is stopped
     * @return a model scaled between min and max by the rule above
     */
    public static WorkerModel hybrid(int min, int max, Duration idleTimeout) {
        return new WorkerModel(min, max, idleTimeout);
    }

    /** @return whether the number of workers changes with load */
    public boolean autoscaled() {
        return min != max;
    }
}
