package io.multiproc4j.cli.tour;

import io.multiproc4j.Pool;
import io.multiproc4j.SerializableFunction;
import io.multiproc4j.TaskTimeoutException;
import io.multiproc4j.cli.report.Chart;
import io.multiproc4j.cli.report.Section;
import io.multiproc4j.cli.report.Table;
import io.multiproc4j.shared.SharedLong;
import io.multiproc4j.sync.ProcessEvent;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Stopping work: a thread cannot be killed ({@code Thread.stop} throws), a task that runs past the
 * pool's {@code taskTimeout} is killed with its worker process (which the pool replaces), and
 * long-running work is stopped cooperatively by a {@link ProcessEvent} that every process sees, where a
 * global flag of this JVM would never reach a worker.
 */
public final class StoppingExperiment implements Experiment {
    /** A "global flag": set in this JVM, it is a different variable in every worker JVM. */
    static volatile boolean stopRequested;

    @Override
    public String id() {
        return "stopping";
    }

    @Override
    public String description() {
        return "Thread.stop throws; a task past taskTimeout is killed with its worker; cooperative stop with a ProcessEvent";
    }

    /** Its figures are whether and how work stops, not speeds: the tour may start later sections' JVMs meanwhile. */
    @Override
    public boolean toleratesBackgroundStarts() {
        return true;
    }

    @Override
    public int steps(TourContext ctx) {
        return 3;
    }

    @Override
    @SuppressWarnings("removal")
    public Section run(TourContext ctx) throws Exception {
        Table table = new Table("how", "what happened", "time ms");

        // 1. Thread.stop
        AtomicBoolean done = new AtomicBoolean();
        Thread spinner = Thread.ofPlatform().name("tour-unstoppable").daemon().start(() -> {
            while (!done.get()) {
                Thread.onSpinWait();
            }
        });
        String stopResult;
        long t0 = System.nanoTime();
        try {
            spinner.stop();
            stopResult = "returned (this JDK still has Thread.stop)";
        } catch (UnsupportedOperationException e) {
            stopResult = "threw UnsupportedOperationException; the thread ran on (alive: " + spinner.isAlive() + ")";
        }
        double stopMs = (System.nanoTime() - t0) / 1e6;
        done.set(true);
        spinner.join(10_000);
        table.row("Thread.stop() on a running thread", stopResult, stopMs);
        ctx.progress().step("stopping: Thread.stop");

        // 2. taskTimeout: the worker is killed
        // long enough that a fresh worker JVM on a busy machine answers a small task well within it
        Duration timeout = Duration.ofMillis(1_000);
        String timeoutResult;
        double timeoutMs;
        try (Pool pool = Pool.builder().processes(1).taskTimeout(timeout).build()) {
            SerializableFunction<Integer, Long> pid = x -> ProcessHandle.current().pid();
            long before = askPid(pool, pid);
            SerializableFunction<Integer, Long> forever = x -> {
                long n = x;
                while (System.nanoTime() != Long.MIN_VALUE) { // never ends, and ignores interrupts
                    Thread.onSpinWait();
                    n++;
                }
                return n;
            };
            t0 = System.nanoTime();
            try {
                pool.applyAsync(forever, 0).get(60, TimeUnit.SECONDS);
                timeoutResult = "the endless task returned, which it cannot";
            } catch (ExecutionException e) {
                timeoutResult = e.getCause() instanceof TaskTimeoutException
                        ? "TaskTimeoutException" : e.getCause().getClass().getSimpleName();
            }
            timeoutMs = (System.nanoTime() - t0) / 1e6;
            long after = askPid(pool, pid);
            boolean oldAlive = ProcessHandle.of(before).map(ProcessHandle::isAlive).orElse(false);
            timeoutResult += String.format(Locale.ROOT, "; worker pid %d %s, the pool went on with pid %d", before,
                    oldAlive ? "still alive" : "killed", after);
        }
        table.row("Pool.builder().taskTimeout(" + timeout.toMillis() + " ms), an endless task", timeoutResult, timeoutMs);
        ctx.progress().step("stopping: taskTimeout");

        // 3. cooperative stop: a ProcessEvent vs a global flag
        Pool pool = ctx.processes(1);
        String flagResult;
        String eventResult;
        double eventMs;
        try (ProcessEvent stop = ProcessEvent.create(); SharedLong running = SharedLong.create(0)) {
            CompletableFuture<Long> worker = pool.applyAsync((ProcessEvent s) -> {
                long rounds = 0;
                while (!s.isSet() && !stopRequested) {
                    running.set(1);
                    rounds++;
                }
                return rounds;
            }, stop);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (running.get() == 0 && System.nanoTime() < deadline) {
                Thread.onSpinWait(); // until the worker is in its loop
            }
            stopRequested = true; // the global flag: only this JVM's copy changes
            boolean stoppedByFlag;
            try {
                worker.get(300, TimeUnit.MILLISECONDS);
                stoppedByFlag = true;
            } catch (TimeoutException e) {
                stoppedByFlag = false;
            }
            flagResult = stoppedByFlag ? "the worker stopped, which a flag of another JVM cannot do"
                    : "the worker still ran 300 ms later: its JVM has its own copy of the flag";
            t0 = System.nanoTime();
            stop.set();
            long rounds = worker.get(30, TimeUnit.SECONDS);
            eventMs = (System.nanoTime() - t0) / 1e6;
            eventResult = String.format(Locale.ROOT, "the worker saw it and returned after %,d rounds", rounds);
        } finally {
            stopRequested = false;
        }
        table.row("a static volatile flag set in this JVM", flagResult, null);
        table.row("ProcessEvent.set(), the task checks isSet()", eventResult, eventMs);
        ctx.progress().step("stopping: ProcessEvent");
        String reading = interpret(stopResult.startsWith("threw"), timeoutResult.startsWith("TaskTimeoutException")
                && timeoutResult.contains("killed"), timeoutMs, timeout.toMillis(), flagResult.contains("still ran"),
                eventMs);
        Chart chart = Chart.bars("Stopping work: from asking to stopped (ms; no bar: it did not stop)", "ms",
                "Thread.stop()", "taskTimeout kill", "global flag", "ProcessEvent")
                .bar("measured", Double.NaN, timeoutMs, Double.NaN, eventMs);
        return new Section(id(), "Stopping work: threads, timed-out tasks, and cooperative stop", table, reading, chart);
    }

    /** Asks a worker its pid; a worker still starting on a busy machine may time out, so asks again. */
    private static long askPid(Pool pool, SerializableFunction<Integer, Long> pid) throws Exception {
        for (int attempt = 1; ; attempt++) {
            try {
                return pool.applyAsync(pid, 0).get(60, TimeUnit.SECONDS);
            } catch (ExecutionException e) {
                if (!(e.getCause() instanceof TaskTimeoutException) || attempt == 5) {
                    throw e;
                }
            }
        }
    }

    /**
     * @return what the three ways of stopping showed
     */
    static String interpret(boolean stopThrew, boolean timeoutKilled, double timeoutMs, long timeoutSetMs,
                            boolean flagMissed, double eventMs) {
        StringBuilder b = new StringBuilder();
        b.append(stopThrew ? "Thread.stop() threw: a Java thread cannot be killed from outside (it could leave locks"
                + " and objects half-changed), only asked to stop."
                : "Thread.stop() did not throw on this JDK, but it is unsafe (it leaves locks and objects half-changed).");
        b.append(timeoutKilled
                ? String.format(Locale.ROOT, " A task past its %d ms timeout failed with TaskTimeoutException after"
                        + " %.0f ms, and its worker process was killed and replaced: a process can be killed, which is"
                        + " why a pool of processes can enforce a timeout and a pool of threads cannot.", timeoutSetMs,
                        timeoutMs)
                : String.format(Locale.ROOT, " The endless task past its %d ms timeout did not end as a killed worker"
                        + " (see the table): that is a defect, please report it.", timeoutSetMs));
        b.append(flagMissed
                ? String.format(Locale.ROOT, " A global flag set here never reached the worker, while a ProcessEvent,"
                        + " which lives in shared memory, stopped it %.1f ms after set(): to stop work in other"
                        + " processes, tell them through something they share.", eventMs)
                : String.format(Locale.ROOT, " The ProcessEvent stopped the worker %.1f ms after set().", eventMs));
        return b.toString();
    }
}
