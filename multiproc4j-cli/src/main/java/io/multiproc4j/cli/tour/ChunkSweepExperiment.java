package io.multiproc4j.cli.tour;

import io.multiproc4j.Pool;
import io.multiproc4j.bench.Workloads;
import io.multiproc4j.cli.report.Chart;
import io.multiproc4j.cli.report.Section;
import io.multiproc4j.cli.report.Table;
import java.util.List;
import java.util.Locale;
import java.util.TreeSet;

/**
 * Coarse vs fine grain: the same map of {@link Workloads#heavier(int)} (a few microseconds per element) on one process worker per core with chunk sizes from 1
 * (one round trip per element) up to a size that leaves one more chunk than workers (so one worker
 * does two chunks while the others idle: imbalance). Python's default, {@code ceil(n / (4 × workers))},
 * is among them.
 */
public final class ChunkSweepExperiment implements Experiment {

    @Override
    public String description() {
        return "coarse vs fine grain: the same map with chunk sizes from 1 to one chunk more than workers";
    }

    @Override
    public String id() {
        return "chunk-sweep";
    }

    private static List<Integer> chunkSizes(int n, int workers) {
        TreeSet<Integer> sizes = new TreeSet<>();
        for (int c = 1; c < n; c *= 10) {
            sizes.add(c);
        }
        sizes.add(defaultChunk(n, workers));
        sizes.add(Math.max(1, (n + workers) / (workers + 1)));
        return List.copyOf(sizes);
    }

    static int defaultChunk(int n, int workers) {
        return Math.max(1, (n + 4 * workers - 1) / (4 * workers));
    }

    @Override
    public int steps(TourContext ctx) {
        return chunkSizes(ctx.mode().sweepSize(), ctx.cores()).size();
    }

    @Override
    public Section run(TourContext ctx) {
        int n = ctx.mode().sweepSize();
        int workers = ctx.cores();
        List<Integer> in = ctx.inputs(n);
        Pool pool = ctx.processes(workers);
        List<Integer> sizes = chunkSizes(n, workers);
        Table table = new Table("chunk size", "chunks (round trips)", "time ms", "elements/s", "note");
        double[] x = new double[sizes.size()];
        double[] y = new double[sizes.size()];
        double best = Double.MAX_VALUE;
        int bestSize = 1;
        double finest = 0;
        double imbalanced = 0;
        int imbalancedSize = 0;
        for (int i = 0; i < sizes.size(); i++) {
            int c = sizes.get(i);
            double t = ctx.medianMillis(() -> pool.map(Workloads.HEAVIER, in, c));
            ctx.progress().step("chunk size " + c);
            int chunks = (n + c - 1) / c;
            String note = c == defaultChunk(n, workers) ? "Python's default"
                    : chunks == workers + 1 ? "one chunk more than workers" : "";
            table.row(c, chunks, t, n / (t / 1000), note);
            x[i] = c;
            y[i] = t;
            if (t < best) {
                best = t;
                bestSize = c;
            }
            if (i == 0) {
                finest = t;
            }
            if (chunks == workers + 1) {
                imbalanced = t;
                imbalancedSize = c;
            }
        }
        String coarse = imbalanced / best >= 1.15
                ? String.format(Locale.ROOT, "with chunk size %,d there is one chunk more than workers, so one worker"
                        + " runs two chunks while the others wait (%.0f ms, %.2fx the best)", imbalancedSize, imbalanced,
                        imbalanced / best)
                : String.format(Locale.ROOT, "with chunk size %,d (one chunk more than workers) the imbalance should"
                        + " cost up to a third more, but it was lost in the noise here (%.0f ms, %.2fx the best)",
                        imbalancedSize, imbalanced, imbalanced / best);
        String reading = String.format(Locale.ROOT, "With chunk size 1 every element is a round trip to a worker"
                + " (%.0f ms, %.1fx the best); the best here is chunk size %,d (%.0f ms); %s. Small chunks pay in round"
                + " trips, huge ones in imbalance.", finest, finest / best, bestSize, best, coarse);
        Chart chart = new Chart(String.format(Locale.ROOT, "Map of %,d integers (heavier(x), 2,000 rounds) on %d worker processes, by chunk size",
                n, workers), "chunk size (log)", "time ms (log)").logX().logY()
                .series("Pool.processes(" + workers + ").map", x, y, true);
        return new Section(id(), String.format(Locale.ROOT, "Chunk size: round trips vs imbalance (%,d elements of"
                + " heavier(x), %d workers)", n, workers), table, reading, chart);
    }
}
