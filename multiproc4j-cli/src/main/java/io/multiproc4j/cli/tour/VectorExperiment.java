package io.multiproc4j.cli.tour;

import io.multiproc4j.SerializableFunction;
import io.multiproc4j.bench.Workloads;
import io.multiproc4j.cli.report.Chart;
import io.multiproc4j.cli.report.Section;
import io.multiproc4j.cli.report.Table;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The talk's first experiment: apply a function to every element of a vector, sequentially, then
 * with {@code Pool.threads(n).map} and {@code Pool.processes(n).map} for 1, 2 and 4 workers. With
 * {@code x + 1} parallel is slower (the work per element is far smaller than the cost of handing it
 * over); with the heavy variant it approaches the core count.
 */
public final class VectorExperiment implements Experiment {
    private static final int[] WORKERS = {1, 2, 4};
    private final boolean heavy;

    /**
     * @param heavy whether each element gets {@link Workloads#heavy(int)} rather than {@code x + 1}
     */
    public VectorExperiment(boolean heavy) {
        this.heavy = heavy;
    }

    @Override
    public String id() {
        return heavy ? "vector-heavy" : "vector-light";
    }

    @Override
    public int steps(TourContext ctx) {
        return 1 + 2 * WORKERS.length;
    }

    @Override
    public String description() {
        return heavy ? "the same map with 200 times the work per element: where processes pay"
                : "x + 1 over a vector: sequential vs Pool.threads vs Pool.processes (parallel loses)";
    }

    private static int pythonSize(TourContext ctx, boolean heavy) {
        return heavy ? ctx.size(60_000, 20_000, 1_000) : ctx.mode().vectorSize();
    }

    @Override
    public Map<String, Object> pythonParams(TourContext ctx) {
        return Map.of("n", pythonSize(ctx, heavy), "workers", 2,
                "heavy", heavy ? 1 : 0, "reps", ctx.mode().repetitions());
    }

    @Override
    public List<String> pythonKeys() {
        return List.of("sequential_ms", "pool_ms");
    }

    @Override
    public Section run(TourContext ctx) {
        int n = heavy ? ctx.mode().heavySize() : ctx.mode().vectorSize();
        List<Integer> in = ctx.inputs(n);
        SerializableFunction<Integer, Integer> fn = heavy ? Workloads.HEAVY : Workloads.LIGHT;
        String what = heavy ? "heavy(x) (" + Workloads.HEAVY_ROUNDS + " dependent rounds)" : "x + 1";

        // the baseline is cheap and runs first: warm the JIT and the heap well, or it looks slow
        double sequential = ctx.medianMillis(() -> sequentialMap(fn, in), 5);
        ctx.progress().step(what + ": sequential");
        Table table = new Table("way", "workers", "time ms", "speed-up");
        table.row("sequential loop", 1, sequential, 1.0);
        double[] x = new double[WORKERS.length];
        double[] threadSpeedup = new double[WORKERS.length];
        double[] processSpeedup = new double[WORKERS.length];
        double bestThreads = Double.MAX_VALUE;
        double bestProcesses = Double.MAX_VALUE;
        int bestProcessWorkers = 1;
        boolean noisy = false;
        for (int i = 0; i < WORKERS.length; i++) {
            int w = WORKERS[i];
            x[i] = w;
            double t = ctx.medianMillis(() -> ctx.threads(w).map(fn, in));
            noisy |= Readings.noisy(ctx.lastSamples());
            ctx.progress().step(what + ": Pool.threads(" + w + ")");
            table.row("Pool.threads", w, t, sequential / t);
            threadSpeedup[i] = sequential / t;
            bestThreads = Math.min(bestThreads, t);
        }
        for (int i = 0; i < WORKERS.length; i++) {
            int w = WORKERS[i];
            double t = ctx.medianMillis(() -> ctx.processes(w).map(fn, in));
            noisy |= Readings.noisy(ctx.lastSamples());
            ctx.progress().step(what + ": Pool.processes(" + w + ")");
            table.row("Pool.processes", w, t, sequential / t);
            processSpeedup[i] = sequential / t;
            if (t < bestProcesses) {
                bestProcesses = t;
                bestProcessWorkers = w;
            }
        }
        ctx.record(id() + ".threads-speedup", sequential / bestThreads);
        ctx.record(id() + ".processes-speedup", sequential / bestProcesses);
        ctx.record(id() + ".processes-workers", bestProcessWorkers);
        double perElementNs = sequential * 1e6 / n;
        String reading = interpret(what, perElementNs, sequential, sequential / bestThreads,
                sequential / bestProcesses, bestProcessWorkers, ctx.cores(), noisy);
        PythonFigures py = ctx.python();
        Double pySeq = py.get(id(), "sequential_ms");
        Double pyPool = py.get(id(), "pool_ms");
        Chart chart = new Chart((heavy ? "Heavy" : "x + 1") + " over " + String.format(Locale.ROOT, "%,d", n)
                + " integers: speed-up over the sequential loop", "workers", "speed-up (x)")
                .series("Pool.threads", x, threadSpeedup, true)
                .series("Pool.processes", x, processSpeedup, true)
                .series("sequential (1x)", new double[] {1, 4}, new double[] {1, 1}, false)
                .series("ideal: min(workers, cores)", x, ideal(x, ctx.cores()), false);
        if (pySeq != null && pyPool != null) {
            int pn = pythonSize(ctx, heavy);
            table.row(String.format(Locale.ROOT, "Python: plain loop (%,d elements)", pn), 1, pySeq, 1.0);
            table.row(String.format(Locale.ROOT, "Python: multiprocessing.Pool(2).map (%,d elements)", pn), 2, pyPool,
                    pySeq / pyPool);
            chart.series("Python multiprocessing.Pool", new double[] {2}, new double[] {pySeq / pyPool}, true);
            reading += "\n" + pythonReading(pySeq / pyPool, ctx.fact(id() + ".processes-speedup"), pySeq * 1e6 / pn,
                    perElementNs);
        } else {
            reading += "\n" + py.note(id()) + ".";
        }
        String title = String.format(Locale.ROOT, "%s over %,d integers: sequential vs threads vs processes", what, n);
        return new Section(id(), title, table, reading, chart);
    }

    /**
     * @return one or two sentences reading the table: which way won, and why
     */
    static String interpret(String what, double perElementNs, double sequentialMs, double bestThreadSpeedup,
                            double bestProcessSpeedup, int bestProcessWorkers, int cores, boolean noisy) {
        String noise = noisy ? " The timed runs of some figures spread by more than 1.5x (other load on this"
                + " machine), so read the speed-ups as rough." : "";
        Readings.Outcome threads = Readings.of(bestThreadSpeedup);
        Readings.Outcome processes = Readings.of(bestProcessSpeedup);
        if (threads == Readings.Outcome.SLOWER && processes == Readings.Outcome.SLOWER) {
            return String.format(Locale.ROOT, "Every parallel run is slower than the plain loop (%.0f ms): %s costs"
                    + " about %.1f ns per element, less than handing an element to a thread, and far less than shipping"
                    + " it to a worker process and back (serialize, copy through a socket, deserialize), so the work is"
                    + " too fine-grained to pay for its distribution.", sequentialMs, what, perElementNs) + noise;
        }
        if (cores == 1) {
            return String.format(Locale.ROOT, "This JVM may use one core, so no pool can run faster than the loop"
                    + " (best: threads %.2fx, processes %.2fx): parallel work needs cores to run on.",
                    bestThreadSpeedup, bestProcessSpeedup) + noise;
        }
        if (processes == Readings.Outcome.SLOWER && threads != Readings.Outcome.FASTER) {
            return String.format(Locale.ROOT, "Neither pool beat the plain loop (threads %.2fx, processes %.2fx) at %.0f"
                    + " ns of work per element: threads, which ship nothing, did not gain either, which points at the"
                    + " cores (busy with other work during this run), and processes paid for shipping every element"
                    + " and result on top.", bestThreadSpeedup, bestProcessSpeedup, perElementNs) + noise;
        }
        if (processes == Readings.Outcome.SLOWER) {
            return String.format(Locale.ROOT, "Threads reach %.2fx but worker processes lose (best %.2fx): at %.0f ns"
                    + " of work per element, threads share the inputs in memory, while processes must serialize every"
                    + " element and result through a socket, and here that costs more than splitting the work saves.",
                    bestThreadSpeedup, bestProcessSpeedup, perElementNs) + noise;
        }
        if (processes == Readings.Outcome.SAME) {
            String why = threads == Readings.Outcome.FASTER
                    ? String.format(Locale.ROOT, "threads did reach %.2fx, so the cores were there: shipping each"
                            + " element to a worker and back cost about as much as the work it spread", bestThreadSpeedup)
                    : String.format(Locale.ROOT, "threads did no better (%.2fx), which points at the cores rather than"
                            + " the pool: other programs kept them busy during this run, and two workers cannot run"
                            + " at once on cores that are taken", bestThreadSpeedup);
            return String.format(Locale.ROOT, "Worker processes ran about as fast as the loop (best %.2fx with %d"
                    + " workers on %d usable cores), not faster: %s.", bestProcessSpeedup, bestProcessWorkers, cores, why)
                    + noise;
        }
        double ideal = Math.min(bestProcessWorkers, cores);
        double efficiency = bestProcessSpeedup / ideal;
        if (efficiency > 1.25) {
            return String.format(Locale.ROOT, "%d worker process%s ran %.2fx faster than the loop (threads: %.2fx),"
                    + " more than the %.0fx that %d usable cores allow: the loop's own figure was slow, not the pool"
                    + " fast (its code was not yet compiled by the JIT, or the machine was busy while it ran), so this"
                    + " run's speed-ups overstate; the full tour's longer runs measure it properly.",
                    bestProcessWorkers, bestProcessWorkers == 1 ? "" : "es", bestProcessSpeedup, bestThreadSpeedup,
                    ideal, cores) + noise;
        }
        if (efficiency >= 0.8) {
            return String.format(Locale.ROOT, "At %.0f ns of work per element, %d worker processes run %.2fx faster"
                    + " than the loop (threads: %.2fx) on %d usable cores, %.0f %% of the %.0fx that %d workers could"
                    + " give at best: once the work per element outweighs the cost of shipping it, the speed-up"
                    + " approaches the core count, and workers beyond the cores add nothing.",
                    perElementNs, bestProcessWorkers, bestProcessSpeedup, bestThreadSpeedup, cores, efficiency * 100,
                    ideal, bestProcessWorkers) + noise;
        }
        return String.format(Locale.ROOT, "At %.0f ns of work per element, %d worker processes run %.2fx faster than"
                + " the loop (threads: %.2fx) on %d usable cores, but only %.0f %% of the %.0fx they could give at best:"
                + " shipping elements costs a part of the gain, and on a shared machine the cores are not all ours"
                + " for the whole run.", perElementNs, bestProcessWorkers, bestProcessSpeedup, bestThreadSpeedup,
                cores, efficiency * 100, ideal) + noise;
    }

    /**
     * @param pythonSpeedup    Python's plain-loop time / Pool(2) time
     * @param javaSpeedup      ours (best process pool)
     * @param pythonPerElemNs  Python's plain loop per element
     * @param javaPerElemNs    ours
     * @return a sentence comparing the two
     */
    static String pythonReading(double pythonSpeedup, double javaSpeedup, double pythonPerElemNs,
                                double javaPerElemNs) {
        String loop = String.format(Locale.ROOT, "Python's plain loop takes %,.0f ns per element, ours %,.1f ns (%s)",
                pythonPerElemNs, javaPerElemNs, pythonPerElemNs >= javaPerElemNs
                        ? Readings.times(pythonPerElemNs / javaPerElemNs) + " slower in Python"
                        : Readings.times(javaPerElemNs / pythonPerElemNs) + " slower in Java");
        String pool = Readings.of(pythonSpeedup) == Readings.Outcome.SLOWER
                ? String.format(Locale.ROOT, "multiprocessing.Pool(2) is slower than Python's own loop (%.2fx)",
                        pythonSpeedup)
                : Readings.of(pythonSpeedup) == Readings.Outcome.SAME
                ? String.format(Locale.ROOT, "multiprocessing.Pool(2) runs about as fast as Python's loop (%.2fx)",
                        pythonSpeedup)
                : String.format(Locale.ROOT, "multiprocessing.Pool(2) runs %.2fx faster than Python's loop",
                        pythonSpeedup);
        return loop + "; " + pool + ", against our best process pool's " + String.format(Locale.ROOT, "%.2fx", javaSpeedup)
                + " over our loop.";
    }

    private static double[] ideal(double[] workers, int cores) {
        double[] y = new double[workers.length];
        for (int i = 0; i < y.length; i++) {
            y[i] = Math.min(workers[i], cores);
        }
        return y;
    }

    /**
     * The baseline: a plain loop in this thread, producing a new list as {@code map} does.
     * @param fn the function
     * @param in the inputs
     * @return the results
     */
    static List<Integer> sequentialMap(SerializableFunction<Integer, Integer> fn, List<Integer> in) {
        List<Integer> out = new ArrayList<>(in.size());
        for (Integer v : in) {
            out.add(fn.apply(v));
        }
        return out;
    }
}
