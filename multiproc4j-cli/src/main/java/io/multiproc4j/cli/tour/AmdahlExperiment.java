package io.multiproc4j.cli.tour;

import io.multiproc4j.bench.Workloads;
import io.multiproc4j.cli.report.Chart;
import io.multiproc4j.diagnostics.Amdahl;
import io.multiproc4j.cli.report.Section;
import io.multiproc4j.cli.report.Table;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Amdahl's law, predicted and measured: a job whose first 10 % of elements run in this thread (the
 * serial part) and the rest on {@code Pool.processes(w)}. The parallel fraction {@code p} is read from
 * the one-worker run's timings, the prediction is {@link Amdahl#speedup}, and the Karp–Flatt metric
 * reads the serial fraction back out of each measured speed-up: when it exceeds the serial part we
 * built in, the difference is the pool's own overhead.
 */
public final class AmdahlExperiment implements Experiment {
    static final double SERIAL_SHARE = 0.10;

    @Override
    public String description() {
        return "Amdahl's law predicted vs measured, with the Karp-Flatt serial fraction";
    }

    @Override
    public String id() {
        return "amdahl";
    }

    static List<Integer> workerCounts(int cores) {
        List<Integer> counts = new ArrayList<>();
        for (int w = 1; w <= Math.max(2, cores); w = w < 4 ? w + 1 : w * 2) {
            counts.add(w);
        }
        if (counts.getLast() != Math.max(2, cores)) {
            counts.add(Math.max(2, cores));
        }
        return counts;
    }

    @Override
    public int steps(TourContext ctx) {
        return workerCounts(ctx.cores()).size();
    }

    @Override
    public Section run(TourContext ctx) {
        int n = ctx.mode().heavySize();
        int serialN = (int) (n * SERIAL_SHARE);
        List<Integer> serialPart = ctx.inputs(n).subList(0, serialN);
        List<Integer> parallelPart = ctx.inputs(n).subList(serialN, n);
        List<Integer> counts = workerCounts(ctx.cores());
        double[] total = new double[counts.size()];
        double serialMs = 0;
        double parallel1Ms = 0;
        for (int i = 0; i < counts.size(); i++) {
            int w = counts.get(i);
            double[] phases = new double[2];
            total[i] = ctx.medianMillis(() -> {
                long t0 = System.nanoTime();
                VectorExperiment.sequentialMap(Workloads.HEAVY, serialPart);
                long t1 = System.nanoTime();
                ctx.processes(w).map(Workloads.HEAVY, parallelPart);
                phases[0] = (t1 - t0) / 1e6;
                phases[1] = (System.nanoTime() - t1) / 1e6;
            });
            if (w == 1) {
                serialMs = phases[0];
                parallel1Ms = phases[1];
            }
            ctx.progress().step("Amdahl: " + w + " workers");
        }
        double p = parallel1Ms / (serialMs + parallel1Ms);
        Table table = new Table("workers", "time ms", "measured speed-up", "Amdahl predicts", "Gustafson (scaled)",
                "Karp-Flatt serial fraction");
        double[] x = new double[counts.size()];
        double[] measured = new double[counts.size()];
        double lastE = Double.NaN;
        for (int i = 0; i < counts.size(); i++) {
            int w = counts.get(i);
            double s = total[0] / total[i];
            x[i] = w;
            measured[i] = s;
            Double e = w >= 2 ? Amdahl.karpFlatt(s, w) : null;
            if (e != null) {
                lastE = e;
            }
            table.row(w, total[i], s, Amdahl.speedup(p, w), Amdahl.gustafson(p, w), e);
        }
        int maxW = Math.max(16, counts.getLast() * 2);
        double[] curveX = new double[maxW];
        double[] curveY = new double[maxW];
        for (int w = 1; w <= maxW; w++) {
            curveX[w - 1] = w;
            curveY[w - 1] = Amdahl.speedup(p, w);
        }
        int lastW = counts.getLast();
        String reading = String.format(Locale.ROOT, "With %.0f %% of the elements run serially, the one-worker run spends"
                + " p = %.2f of its time in the parallel part, so Amdahl caps the speed-up at %.1fx however many cores;"
                + " on %d workers it predicts %.2fx and we measured %.2fx, a Karp-Flatt serial fraction of %.3f"
                + " against the %.2f serial share of the one-worker run%s.",
                SERIAL_SHARE * 100, p, Amdahl.limit(Math.min(p, 0.999999)), lastW, Amdahl.speedup(p, lastW),
                measured[measured.length - 1], lastE, 1 - p,
                Double.isNaN(lastE) ? "" : lastE > (1 - p) * 1.5 + 0.02
                        ? ": the excess is the pool's overhead, or cores that other programs held during the run"
                        : lastE < (1 - p) * 0.5 - 0.02 ? ": below it, so the parallel part scaled better than linear"
                        + " (warmer caches in the later runs) and the law held with room to spare"
                        : ": close to it, so the law explains this run");
        Chart chart = new Chart("Amdahl's law: predicted vs measured speed-up", "workers", "speed-up (x)")
                .series(String.format(Locale.ROOT, "Amdahl, p = %.2f", p), curveX, curveY, false)
                .series("measured (Pool.processes)", x, measured, true);
        return new Section(id(), String.format(Locale.ROOT, "Amdahl's law: %.0f %% serial, %,d heavy elements",
                SERIAL_SHARE * 100, n), table, reading, chart);
    }
}
