package io.multiproc4j.cli.tour;

import io.multiproc4j.bench.Workloads;
import io.multiproc4j.cli.report.Chart;
import io.multiproc4j.cli.report.Section;
import io.multiproc4j.cli.report.Table;
import io.multiproc4j.diagnostics.Topology;
import java.util.List;
import java.util.Locale;

/**
 * Hyper-threading (SMT): where a core runs two hardware threads, CPU-bound work on every logical CPU
 * is compared with work on one thread per physical core. Where the machine has no SMT, the section
 * says so and shows the topology that was detected.
 */
public final class HyperThreadingExperiment implements Experiment {

    @Override
    public String id() {
        return "hyper-threading";
    }

    private static boolean comparable(TourContext ctx) {
        Topology t = ctx.topology();
        return t.smt() && t.suggestedCpuBoundWorkers() < t.availableProcessors();
    }

    @Override
    public int steps(TourContext ctx) {
        return comparable(ctx) ? 2 : 1;
    }

    @Override
    public Section run(TourContext ctx) {
        Topology t = ctx.topology();
        Table table = new Table("threads", "what they occupy", "time ms", "speed-up vs physical");
        if (!comparable(ctx)) {
            ctx.progress().step("hyper-threading: topology");
            table.row(t.availableProcessors(), t.physicalCores() + " physical cores, " + t.logicalCpus()
                    + " logical CPUs", null, null);
            String reading = String.format(Locale.ROOT, "This machine shows %s (%d logical CPUs on %d physical cores,"
                    + " %d usable by this JVM), so there is no second hardware thread per core to compare; where SMT is on,"
                    + " CPU-bound work typically gains 0-30 %% from it, which is why `multiproc topology` suggests one"
                    + " worker per physical core for CPU-bound pools.",
                    t.smt() ? "SMT, but this process may not use both threads of any core" : "no SMT",
                    t.logicalCpus(), t.physicalCores(), t.availableProcessors());
            return new Section(id(), "Hyper-threading", table, reading, null);
        }
        int physical = t.suggestedCpuBoundWorkers();
        int logical = t.availableProcessors();
        List<Integer> in = ctx.inputs(ctx.mode().heavySize());
        double tp = ctx.medianMillis(() -> ctx.threads(physical).map(Workloads.HEAVY, in));
        ctx.progress().step("hyper-threading: one thread per physical core");
        double tl = ctx.medianMillis(() -> ctx.threads(logical).map(Workloads.HEAVY, in));
        ctx.progress().step("hyper-threading: one thread per logical CPU");
        table.row(physical, "one per physical core", tp, 1.0);
        table.row(logical, "every logical CPU (" + t.threadsPerCore() + " per core)", tl, tp / tl);
        String reading = String.format(Locale.ROOT, "Using every logical CPU instead of one per physical core gives"
                + " %.2fx: the second hardware thread of a core shares its execution units, so CPU-bound work gains"
                + " far less than the doubled CPU count suggests.", tp / tl);
        Chart chart = new Chart("Hyper-threading: physical cores vs logical CPUs", "threads", "time ms")
                .series("Pool.threads(n).map heavy", new double[] {physical, logical}, new double[] {tp, tl}, true);
        return new Section(id(), "Hyper-threading: " + physical + " physical vs " + logical + " logical", table,
                reading, chart);
    }
}
