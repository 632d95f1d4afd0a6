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
    public String description() {
        return "one thread per physical core vs every logical CPU (SMT)";
    }

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
                    + " %d usable by this JVM), so there is no second hardware thread per core to measure here; on a machine"
                    + " with SMT this section runs CPU-bound work on one thread per physical core and on every logical"
                    + " CPU and says what the second hardware thread gave.",
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
        String reading = interpret(tp / tl, t.threadsPerCore());
        Chart chart = new Chart("Hyper-threading: physical cores vs logical CPUs", "threads", "time ms")
                .series("Pool.threads(n).map heavy", new double[] {physical, logical}, new double[] {tp, tl}, true);
        return new Section(id(), "Hyper-threading: " + physical + " physical vs " + logical + " logical", table,
                reading, chart);
    }

    /**
     * @param gain           time on physical cores / time on every logical CPU
     * @param threadsPerCore hardware threads per core
     * @return what the measured gain says
     */
    static String interpret(double gain, int threadsPerCore) {
        return switch (Readings.of(gain)) {
            case FASTER -> String.format(Locale.ROOT, "Using every logical CPU instead of one per physical core gave"
                    + " %.2fx, %s the %dx that the CPU count suggests: the hardware threads of a core share its"
                    + " execution units, and gain only where one thread leaves them idle.", gain,
                    gain >= threadsPerCore * 0.9 ? "close to" : "far from", threadsPerCore);
            case SAME -> String.format(Locale.ROOT, "Using every logical CPU instead of one per physical core gave"
                    + " %.2fx, about nothing: this work keeps a core's execution units busy from one thread, so the"
                    + " second hardware thread has nothing left to use. Size CPU-bound pools to the physical cores.", gain);
            case SLOWER -> String.format(Locale.ROOT, "Using every logical CPU was slower than one thread per physical"
                    + " core (%.2fx): the hardware threads competed for one core's caches and execution units. Size"
                    + " CPU-bound pools to the physical cores.", gain);
        };
    }
}
