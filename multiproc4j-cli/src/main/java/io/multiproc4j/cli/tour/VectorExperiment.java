package io.multiproc4j.cli.tour;

import io.multiproc4j.SerializableFunction;
import io.multiproc4j.bench.Workloads;
import io.multiproc4j.cli.report.Chart;
import io.multiproc4j.cli.report.Section;
import io.multiproc4j.cli.report.Table;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

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
        for (int i = 0; i < WORKERS.length; i++) {
            int w = WORKERS[i];
            x[i] = w;
            double t = ctx.medianMillis(() -> ctx.threads(w).map(fn, in));
            ctx.progress().step(what + ": Pool.threads(" + w + ")");
            table.row("Pool.threads", w, t, sequential / t);
            threadSpeedup[i] = sequential / t;
            bestThreads = Math.min(bestThreads, t);
        }
        for (int i = 0; i < WORKERS.length; i++) {
            int w = WORKERS[i];
            double t = ctx.medianMillis(() -> ctx.processes(w).map(fn, in));
            ctx.progress().step(what + ": Pool.processes(" + w + ")");
            table.row("Pool.processes", w, t, sequential / t);
            processSpeedup[i] = sequential / t;
            if (t < bestProcesses) {
                bestProcesses = t;
                bestProcessWorkers = w;
            }
        }
        double perElementNs = sequential * 1e6 / n;
        String reading = interpret(what, perElementNs, sequential, sequential / bestThreads,
                sequential / bestProcesses, bestProcessWorkers, ctx.cores());
        Chart chart = new Chart((heavy ? "Heavy" : "x + 1") + " over " + String.format(Locale.ROOT, "%,d", n)
                + " integers: speed-up over the sequential loop", "workers", "speed-up (x)")
                .series("Pool.threads", x, threadSpeedup, true)
                .series("Pool.processes", x, processSpeedup, true)
                .series("sequential (1x)", new double[] {1, 4}, new double[] {1, 1}, false)
                .series("ideal: min(workers, cores)", x, ideal(x, ctx.cores()), false);
        String title = String.format(Locale.ROOT, "%s over %,d integers: sequential vs threads vs processes", what, n);
        return new Section(id(), title, table, reading, chart);
    }

    /**
     * @return one or two sentences reading the table: which way won, and why
     */
    static String interpret(String what, double perElementNs, double sequentialMs, double bestThreadSpeedup,
                            double bestProcessSpeedup, int bestProcessWorkers, int cores) {
        if (bestThreadSpeedup < 1 && bestProcessSpeedup < 1) {
            return String.format(Locale.ROOT, "Every parallel run is slower than the plain loop (%.0f ms): %s costs"
                    + " about %.1f ns per element, less than handing an element to a thread, and far less than shipping"
                    + " it to a worker process and back (serialize, copy through a socket, deserialize), so the work is"
                    + " too fine-grained to pay for its distribution.", sequentialMs, what, perElementNs);
        }
        if (bestProcessSpeedup < 1) {
            return String.format(Locale.ROOT, "Threads gain %.2fx but worker processes lose (best %.2fx): at %.0f ns of"
                    + " work per element, threads share the inputs in memory, while processes must serialize every"
                    + " element and result through a socket, and here that costs more than splitting the work saves.",
                    bestThreadSpeedup, bestProcessSpeedup, perElementNs);
        }
        return String.format(Locale.ROOT, "At %.0f ns of work per element, %d worker processes run %.2fx faster than"
                + " the loop (threads: %.2fx) on %d usable cores: once the work per element outweighs the cost of"
                + " shipping it, the speed-up approaches the core count, and workers beyond the cores add nothing.",
                perElementNs, bestProcessWorkers, bestProcessSpeedup, bestThreadSpeedup, cores);
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
