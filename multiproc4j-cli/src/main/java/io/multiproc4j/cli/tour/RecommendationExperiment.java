package io.multiproc4j.cli.tour;

import io.multiproc4j.Pool;
import io.multiproc4j.SerializableFunction;
import io.multiproc4j.bench.Workloads;
import io.multiproc4j.cli.report.Chart;
import io.multiproc4j.cli.report.Section;
import io.multiproc4j.cli.report.Table;
import io.multiproc4j.diagnostics.Topology;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Raymond Hettinger's classification from the talk, as a recommendation measured on this machine: on
 * one core, concurrency only helps waiting (async I/O, threads); with a few cores, CPU-bound work wants
 * one worker per core (processes in Python; threads or processes here); beyond one machine, a cluster.
 * The figures are the ones this tour measured earlier (the heavy map, the I/O-bound requests, the
 * cluster); when those sections did not run, this one measures a small version of each itself.
 */
public final class RecommendationExperiment implements Experiment {

    @Override
    public String id() {
        return "recommendation";
    }

    @Override
    public String description() {
        return "Hettinger's one core / a few cores / a cluster, as a measured recommendation for this machine";
    }

    @Override
    public int steps(TourContext ctx) {
        return 1;
    }

    @Override
    public Section run(TourContext ctx) throws Exception {
        Topology t = ctx.topology();
        int cores = ctx.cores();
        Double cpuSpeedup = ctx.fact("vector-heavy.processes-speedup");
        Double threadSpeedup = ctx.fact("vector-heavy.threads-speedup");
        String cpuSource = "the heavy map above";
        if (cpuSpeedup == null) {
            List<Integer> in = ctx.inputs(ctx.size(200_000, 60_000, 2_000));
            double seq = ctx.medianMillis(() -> VectorExperiment.sequentialMap(Workloads.HEAVY, in), 3);
            cpuSpeedup = seq / ctx.medianMillis(() -> ctx.processes(cores).map(Workloads.HEAVY, in));
            threadSpeedup = seq / ctx.medianMillis(() -> ctx.threads(cores).map(Workloads.HEAVY, in));
            cpuSource = "a small heavy map measured here";
        }
        Double ioSpeedup = ctx.fact("io-bound.virtual-speedup");
        String ioSource = "the I/O-bound requests above";
        if (ioSpeedup == null) {
            try (LocalHttpServer server = new LocalHttpServer(); Pool virtual = Pool.virtualThreads()) {
                List<String> uris = new ArrayList<>();
                for (int i = 0; i < 16; i++) {
                    uris.add(server.uri(i, 10, 100).toString());
                }
                SerializableFunction<String, Integer> get = u -> LocalHttpServer.fetch(u).length();
                double seq = ctx.medianMillis(() -> uris.forEach(LocalHttpServer::fetch));
                ioSpeedup = seq / ctx.medianMillis(() -> virtual.map(get, uris, 1));
            }
            ioSource = "16 small requests measured here";
        }
        Double clusterSpeedup = ctx.fact("cluster.speedup");
        boolean clusterModule = ClusterExperiment.optional(ClusterExperiment.CLUSTER_POOL) != null;
        ctx.progress().step("recommendation");
        Table table = new Table("Hettinger's case", "what the talk says", "measured here", "for this machine");
        table.row("one core", "concurrency helps only waiting: async I/O, threads",
                String.format(Locale.ROOT, "waiting requests on virtual threads: %.1fx (%s)", ioSpeedup, ioSource),
                ioAdvice(ioSpeedup));
        table.row("a few cores", "CPU-bound work: one process per core",
                String.format(Locale.ROOT, "heavy map: processes %.2fx, threads %s on %d cores (%s)", cpuSpeedup,
                        threadSpeedup == null ? "-" : String.format(Locale.ROOT, "%.2fx", threadSpeedup), cores, cpuSource),
                cpuAdvice(cores, cpuSpeedup, threadSpeedup));
        table.row("a cluster", "work that outgrows one machine: distribute it",
                clusterSpeedup != null ? String.format(Locale.ROOT, "ClusterPool.local(2): %.2fx", clusterSpeedup)
                        : clusterModule ? "the cluster section did not run" : "cluster module not on the class path",
                clusterAdvice(clusterModule));
        table.row("this machine (multiproc topology)", "size pools to the hardware",
                String.format(Locale.ROOT, "%d usable of %d logical CPUs, %d physical cores, SMT %s",
                        t.availableProcessors(), t.logicalCpus(), t.physicalCores(), t.smt() ? "on" : "off"),
                String.format(Locale.ROOT, "CPU-bound: %d workers; I/O-bound: %d threads or virtual threads",
                        t.suggestedCpuBoundWorkers(), t.suggestedIoBoundWorkers()));
        String reading = interpret(cores, t.physicalCores(), cpuSpeedup, threadSpeedup, ioSpeedup);
        Chart chart = Chart.bars("What parallelism gave on this machine (speed-up over one after another)",
                "speed-up (x)", "I/O: virtual threads", "CPU: processes", "CPU: threads", "CPU: cluster")
                .bar("measured", ioSpeedup, cpuSpeedup, threadSpeedup == null ? Double.NaN : threadSpeedup,
                        clusterSpeedup == null ? Double.NaN : clusterSpeedup);
        return new Section(id(), String.format(Locale.ROOT, "What to use on this machine (%d usable cores): one core,"
                + " a few cores, a cluster", cores), table, reading, chart);
    }

    static String ioAdvice(double ioSpeedup) {
        return Readings.of(ioSpeedup) == Readings.Outcome.FASTER
                ? "blocking I/O: virtual threads (or sendAsync); no processes needed"
                : "waiting did not overlap in this run; measure your own I/O before choosing";
    }

    static String cpuAdvice(int cores, double processSpeedup, Double threadSpeedup) {
        if (cores == 1) {
            return "one usable core: no pool makes CPU-bound work faster";
        }
        if (Readings.of(processSpeedup) != Readings.Outcome.FASTER
                && (threadSpeedup == null || Readings.of(threadSpeedup) != Readings.Outcome.FASTER)) {
            return "no gain measured: the cores were busy, or the work per element too small";
        }
        return "Pool.threads(" + cores + ") for plain Java code; Pool.processes(" + cores
                + ") for isolation, killable tasks or native code";
    }

    static String clusterAdvice(boolean module) {
        return module ? "ClusterPool.connect(...) once one machine's cores are not enough"
                : "add multiproc4j-cluster when one machine's cores are not enough";
    }

    /**
     * @return the recommendation in sentences
     */
    static String interpret(int cores, int physical, double processSpeedup, Double threadSpeedup, double ioSpeedup) {
        StringBuilder b = new StringBuilder();
        b.append(String.format(Locale.ROOT, "This machine gives this JVM %d usable core%s (%d physical).", cores,
                cores == 1 ? "" : "s", physical));
        if (Readings.of(ioSpeedup) == Readings.Outcome.FASTER) {
            b.append(String.format(Locale.ROOT, " Waiting overlaps whatever the core count (%.1fx on virtual threads"
                    + " here): that is Hettinger's one-core case, and in Java threads serve it without async code.",
                    ioSpeedup));
        } else {
            b.append(String.format(Locale.ROOT, " Waiting did not overlap in this run (%.2fx), against what the"
                    + " one-core case predicts; rerun the io-bound section.", ioSpeedup));
        }
        if (cores == 1) {
            b.append(" With one core, CPU-bound work cannot run faster on any pool: only a second core or a cluster helps.");
        } else if (Readings.of(processSpeedup) == Readings.Outcome.FASTER) {
            b.append(String.format(Locale.ROOT, " CPU-bound work ran %.2fx faster on %d worker processes%s: the"
                    + " few-cores case, where Python must use processes and Java may use threads too.", processSpeedup,
                    cores, threadSpeedup == null ? "" : String.format(Locale.ROOT, " and %.2fx on threads", threadSpeedup)));
        } else {
            b.append(String.format(Locale.ROOT, " CPU-bound work gained nothing from %d workers in this run (%.2fx):"
                    + " the few-cores case needs cores that are free; check the load (uptime) and rerun.", cores,
                    processSpeedup));
        }
        b.append(" Past one machine's cores, the same Pool API runs on a cluster.");
        return b.toString();
    }
}
