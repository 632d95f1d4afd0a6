package io.multiproc4j.cli.tour;

import io.multiproc4j.bench.Workloads;
import io.multiproc4j.cli.report.Chart;
import io.multiproc4j.cli.report.Section;
import io.multiproc4j.cli.report.Table;
import java.util.List;
import java.util.Locale;

/**
 * Oversubscription: the same CPU-bound map on 1, 2, 4 and 8 times as many threads as usable cores.
 * More workers than cores cannot run at once; they take turns, adding context switches and cache
 * misses instead of speed.
 */
public final class OversubscriptionExperiment implements Experiment {
    private static final int[] FACTORS = {1, 2, 4, 8};

    @Override
    public String description() {
        return "CPU-bound work on 1, 2, 4 and 8 threads per core";
    }

    @Override
    public String id() {
        return "oversubscription";
    }

    @Override
    public int steps(TourContext ctx) {
        return FACTORS.length;
    }

    @Override
    public Section run(TourContext ctx) {
        int n = ctx.mode().heavySize();
        int cores = ctx.cores();
        List<Integer> in = ctx.inputs(n);
        Table table = new Table("threads", "threads per core", "time ms", "vs one per core");
        double[] x = new double[FACTORS.length];
        double[] y = new double[FACTORS.length];
        double base = 0;
        for (int i = 0; i < FACTORS.length; i++) {
            int w = cores * FACTORS[i];
            double t = ctx.medianMillis(() -> ctx.threads(w).map(Workloads.HEAVY, in));
            ctx.progress().step("oversubscription: " + w + " threads");
            if (i == 0) {
                base = t;
            }
            table.row(w, FACTORS[i], t, t / base);
            x[i] = w;
            y[i] = t;
        }
        double worst = 0;
        double best = Double.MAX_VALUE;
        for (double t : y) {
            worst = Math.max(worst, t / base);
            best = Math.min(best, t / base);
        }
        String reading = interpret(cores, cores * FACTORS[FACTORS.length - 1], best, worst);
        Chart chart = new Chart("Oversubscription: heavy map on more threads than cores", "threads", "time ms")
                .series("Pool.threads(n).map", x, y, true);
        return new Section(id(), String.format(Locale.ROOT, "Oversubscription: %d usable cores, up to %d threads",
                cores, cores * FACTORS[FACTORS.length - 1]), table, reading, chart);
    }

    /**
     * @param cores   usable cores
     * @param most    the most threads tried
     * @param best    the best time relative to one thread per core
     * @param worst   the worst time relative to one thread per core
     * @return what the figures say
     */
    static String interpret(int cores, int most, double best, double worst) {
        String range = String.format(Locale.ROOT, "Going from %d to up to %d threads on %d usable cores changed the"
                + " time by %+.0f %% to %+.0f %%", cores, most, cores, (best - 1) * 100, (worst - 1) * 100);
        if (Readings.of(1 / worst) == Readings.Outcome.SLOWER) {
            return range + ": CPU-bound threads beyond the core count cannot run at once, they take turns, and the"
                    + " switches and the caches they evict cost time. Size CPU-bound pools to the cores.";
        }
        if (Readings.of(1 / best) == Readings.Outcome.FASTER) {
            return range + ": a gain from more threads than cores means the one-per-core run did not get every core"
                    + " for its whole duration (other load on the machine, or uneven chunks), not that extra threads add"
                    + " compute. Size CPU-bound pools to the cores.";
        }
        return range + ", within the noise: the extra threads took turns on the same cores and added nothing."
                + " Size CPU-bound pools to the cores.";
    }
}
