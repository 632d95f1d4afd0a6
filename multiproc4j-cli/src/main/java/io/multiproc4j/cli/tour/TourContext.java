package io.multiproc4j.cli.tour;

import io.multiproc4j.Pool;
import io.multiproc4j.ProcessPoolExecutor;
import io.multiproc4j.TaskExecutor;
import io.multiproc4j.bench.Workloads;
import io.multiproc4j.cli.report.Progress;
import io.multiproc4j.diagnostics.Topology;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;

/**
 * What the experiments of one tour share: the sizes for the chosen mode, the machine's topology, the
 * progress bar, and the pools, which are created once and reused by every experiment (starting
 * worker JVMs is the slowest thing here).
 *
 * <p>Early starts: an experiment may start its slow set-up (member JVMs) ahead of its turn with
 * {@link #startEarly}, on a thread of its own, while experiments that
 * {@linkplain Experiment#toleratesBackgroundStarts() tolerate it} run; the tour calls
 * {@link #awaitStarts()} before every other experiment, so a start never overlaps a measurement of
 * speed, and the experiment takes what was started with {@link #takeEarly}, with how long the start
 * took and which sections ran meanwhile. A start that failed fails the experiment that takes it;
 * one nobody took is closed with the context.
 *
 * <p>Not thread-safe: the tour runs its experiments one after another on one thread (an early start
 * runs on its own thread and hands its result over through a future).
 */
public final class TourContext implements AutoCloseable {

    /**
     * How big the tour's problems are.
     * @param name        the mode's name
     * @param vectorSize  elements of the x + 1 vector (the talk's 1,000,000)
     * @param heavySize   elements of the heavy vector and of the Amdahl and oversubscription runs
     * @param sweepSize   elements of the chunk-size sweep (of the ten-times-heavier function)
     * @param repetitions timed runs per figure, after one warm-up run; the median is reported
     */
    public record Mode(String name, int vectorSize, int heavySize, int sweepSize, int repetitions) {
        /** The full tour: the talk's sizes, 5 runs per figure. */
        public static final Mode FULL = new Mode("full", 1_000_000, 1_000_000, 100_000, 5);
        /** Meant for under 40 s on 2 idle cores: smaller problems, two timed runs per figure. */
        public static final Mode QUICK = new Mode("quick", 200_000, 150_000, 5_000, 2);
        /** For tests of the command itself: seconds, figures meaningless. */
        public static final Mode TINY = new Mode("tiny", 20_000, 5_000, 2_000, 1);
    }

    private final Mode mode;
    private final Topology topology;
    private final Progress progress;
    private final Map<String, Pool> pools = new LinkedHashMap<>();
    private final Map<String, List<Integer>> inputs = new LinkedHashMap<>();
    private final Map<String, Double> facts = new LinkedHashMap<>();
    private final Map<Integer, TaskExecutor> executors = new LinkedHashMap<>();
    private final Map<String, EarlyStart> early = new LinkedHashMap<>();
    private PythonFigures python = PythonFigures.notRequested();
    private double[] lastSamples = new double[0];

    /**
     * @param mode     the sizes
     * @param topology the machine
     * @param progress the bar
     */
    public TourContext(Mode mode, Topology topology, Progress progress) {
        this.mode = mode;
        this.topology = topology;
        this.progress = progress;
    }

    /** @return the sizes */
    public Mode mode() {
        return mode;
    }

    /** @return the machine */
    public Topology topology() {
        return topology;
    }

    /** @return the bar */
    public Progress progress() {
        return progress;
    }

    /**
     * @param full  the value of the full tour
     * @param quick the value of {@code --quick}
     * @param tiny  the value of the command's own tests
     * @return the one for this run's mode
     */
    public int size(int full, int quick, int tiny) {
        return switch (mode.name()) {
            case "full" -> full;
            case "quick" -> quick;
            default -> tiny;
        };
    }

    /** @return Python's figures measured at the start of this run (empty when not requested or failed) */
    public PythonFigures python() {
        return python;
    }

    /**
     * @param figures Python's figures for this run
     */
    void python(PythonFigures figures) {
        this.python = figures;
    }

    /**
     * Keeps a figure for a later section to read (the recommendation reads the heavy speed-up, ...).
     * @param key   what it is, e.g. {@code vector-heavy.processes-speedup}
     * @param value the figure
     */
    public void record(String key, double value) {
        facts.put(key, value);
    }

    /**
     * @param key what was recorded
     * @return the figure an earlier section of this run recorded, or null
     */
    public Double fact(String key) {
        return facts.get(key);
    }

    /** @return the processors this JVM may use, at least 1 */
    public int cores() {
        return Math.max(1, topology.availableProcessors());
    }

    /**
     * @param n how many
     * @return {@code 0..n-1} boxed, shared between experiments
     */
    public List<Integer> inputs(int n) {
        return inputs.computeIfAbsent("n" + n, k -> Workloads.inputs(n));
    }

    /**
     * @param workers worker JVMs
     * @return a warm process pool of that size, created on first use and kept for the tour
     */
    public Pool processes(int workers) {
        return pools.computeIfAbsent("processes-" + workers, k -> {
            Pool p = Pool.processes(workers);
            p.map(Workloads.LIGHT, inputs(1_000), 1); // every worker started and warm
            return p;
        });
    }

    /**
     * @param workers worker JVMs at most
     * @return a process-pool executor, created on first use and kept for the tour
     */
    public TaskExecutor processExecutor(int workers) {
        return executors.computeIfAbsent(workers, ProcessPoolExecutor::create);
    }

    /**
     * @param workers platform threads
     * @return a thread pool of that size, created on first use and kept for the tour
     */
    public Pool threads(int workers) {
        return pools.computeIfAbsent("threads-" + workers, k -> Pool.threads(workers));
    }

    /**
     * Runs {@code body} once to warm up, then {@link Mode#repetitions()} times.
     * @param body the thing to time
     * @return the median wall time in milliseconds
     */
    public double medianMillis(Runnable body) {
        return medianMillis(body, 1);
    }

    /**
     * Runs {@code body} {@code warmups} times to warm up (the JIT, the heap's size), then
     * {@link Mode#repetitions()} times.
     * @param body    the thing to time
     * @param warmups untimed runs first, at least 1
     * @return the median wall time in milliseconds
     */
    public double medianMillis(Runnable body, int warmups) {
        for (int i = 0; i < Math.max(1, warmups); i++) {
            body.run();
        }
        double[] samples = new double[mode.repetitions()];
        for (int i = 0; i < samples.length; i++) {
            long t0 = System.nanoTime();
            body.run();
            samples[i] = (System.nanoTime() - t0) / 1e6;
        }
        lastSamples = samples;
        return Workloads.median(samples);
    }

    /** @return the timed runs behind the last {@link #medianMillis} figure (for {@link Readings#noisy}) */
    public double[] lastSamples() {
        return lastSamples.clone();
    }

    /**
     * What an early start made, handed to the experiment that takes it.
     * @param value      the started thing (a pool of member JVMs, say); the taker closes it
     * @param millis     wall time from the start's beginning until it was ready
     * @param overlapped the sections that ran while it started, in order
     * @param <T>        its type
     */
    public record Early<T>(T value, double millis, List<String> overlapped) {}

    /** One set-up started ahead of its experiment: written by its thread once, read after its future completes. */
    private static final class EarlyStart {
        final String section;
        final long startNanos = System.nanoTime();
        final CompletableFuture<AutoCloseable> result = new CompletableFuture<>();
        final List<String> overlapped = new ArrayList<>();
        volatile long readyNanos;
        boolean taken;

        EarlyStart(String section) {
            this.section = section;
        }
    }

    /**
     * Starts a set-up in the background, on a daemon thread of its own.
     * @param section the id of the experiment it is for
     * @param key     what it is, for {@link #takeEarly} (the section's id when it starts one thing)
     * @param start   makes the thing (it may take seconds)
     * @throws IllegalStateException when {@code key} was started already
     */
    public void startEarly(String section, String key, Callable<? extends AutoCloseable> start) {
        if (early.containsKey(key)) {
            throw new IllegalStateException("an early start for '" + key + "' is already under way");
        }
        EarlyStart job = new EarlyStart(section);
        early.put(key, job);
        Thread.ofPlatform().daemon().name("multiproc-tour-early-" + key).start(() -> {
            try {
                AutoCloseable made = start.call();
                job.readyNanos = System.nanoTime();
                job.result.complete(made);
            } catch (Throwable t) {
                job.readyNanos = System.nanoTime();
                job.result.completeExceptionally(t);
            }
        });
    }

    /**
     * Notes that a section begins while early starts are under way.
     * @param section the section's id
     * @return the sections whose starts are under way now, each once (empty when none): the section overlaps them
     */
    List<String> beginOverlap(String section) {
        List<String> running = new ArrayList<>();
        for (EarlyStart job : early.values()) {
            if (!job.result.isDone()) {
                job.overlapped.add(section);
                if (!running.contains(job.section)) {
                    running.add(job.section);
                }
            }
        }
        return running;
    }

    /**
     * Waits until every early start has finished (made its thing or failed).
     * @return how long it waited, in milliseconds
     */
    double awaitStarts() {
        long t0 = System.nanoTime();
        for (EarlyStart job : early.values()) {
            try {
                job.result.join();
            } catch (RuntimeException failed) {
                // takeEarly reports it to the experiment that needs it
            }
        }
        return (System.nanoTime() - t0) / 1e6;
    }

    /**
     * Takes what an early start made, waiting for it if need be.
     * @param key  what {@link #startEarly} was given
     * @param type what it made
     * @param <T>  its type
     * @return it, with how long it took and which sections it overlapped; null when it was never started
     *     (the experiment then starts its set-up itself)
     * @throws Exception what the start threw
     */
    public <T extends AutoCloseable> Early<T> takeEarly(String key, Class<T> type) throws Exception {
        EarlyStart job = early.get(key);
        if (job == null || job.taken) {
            return null;
        }
        job.taken = true;
        try {
            T made = type.cast(job.result.get());
            return new Early<>(made, (job.readyNanos - job.startNanos) / 1e6, List.copyOf(job.overlapped));
        } catch (ExecutionException e) {
            throw e.getCause() instanceof Exception x ? x : new IllegalStateException(e.getCause());
        }
    }

    /** Closes every pool and executor the tour created, and whatever an early start made that nobody took. */
    @Override
    public void close() {
        for (EarlyStart job : early.values()) {
            if (!job.taken) {
                try {
                    job.result.join().close();
                } catch (Exception e) {
                    // it failed to start, or to stop: nothing of it is left to close
                }
            }
        }
        early.clear();
        for (Pool p : pools.values()) {
            p.close();
        }
        pools.clear();
        for (TaskExecutor e : executors.values()) {
            e.close();
        }
        executors.clear();
    }
}
