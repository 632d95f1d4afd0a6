package io.multiproc4j.cli.tour;

import io.multiproc4j.bench.Workloads;
import io.multiproc4j.cli.report.Chart;
import io.multiproc4j.cli.report.Section;
import io.multiproc4j.cli.report.Table;
import io.multiproc4j.cluster.ClusterPool;
import java.util.List;
import java.util.Locale;

/**
 * The heavy experiment on a cluster: {@link ClusterPool#local(int) ClusterPool.local(2)} (two Hazelcast
 * member JVMs on loopback, module {@code multiproc4j-cluster}) against the plain loop and
 * {@code Pool.processes(2)}, on the same inputs. The CLI depends on that module, so the calls are plain
 * typed ones; the section is skipped with a note only when the module's jar is really missing from the
 * class path at run time (a trimmed installation), which {@link #optional} checks before any of it is touched.
 */
public final class ClusterExperiment implements Experiment {
    static final String CLUSTER_POOL = "io.multiproc4j.cluster.ClusterPool";

    @Override
    public String id() {
        return "cluster";
    }

    @Override
    public String description() {
        return "the heavy map on ClusterPool.local(2), two Hazelcast members on loopback, beside Pool.processes(2)";
    }

    @Override
    public int steps(TourContext ctx) {
        return 1;
    }

    /**
     * @param className a class of a module the CLI depends on
     * @return the class, or null when that module's jar is missing from the class path
     */
    static Class<?> optional(String className) {
        try {
            return Class.forName(className, false, ClusterExperiment.class.getClassLoader());
        } catch (ClassNotFoundException | LinkageError e) {
            return null;
        }
    }

    @Override
    public void startEarly(TourContext ctx) {
        if (optional(CLUSTER_POOL) != null) {
            ctx.startEarly(id(), id(), () -> ClusterPool.local(2));
        }
    }

    @Override
    public Section run(TourContext ctx) throws Exception {
        Table table = new Table("way", "workers", "time ms", "speed-up");
        if (optional(CLUSTER_POOL) == null) {
            ctx.progress().step("cluster: module absent");
            table.row("ClusterPool.local(2)", 2, null, null);
            return new Section(id(), "The heavy map on a cluster (skipped)", table, skippedNote(), null);
        }
        int n = ctx.size(300_000, 100_000, 2_000);
        List<Integer> in = ctx.inputs(n);
        double sequential = ctx.medianMillis(() -> VectorExperiment.sequentialMap(Workloads.HEAVY, in), 3);
        double processes = ctx.medianMillis(() -> ctx.processes(2).map(Workloads.HEAVY, in));
        int chunk = Math.max(1, n / 16);
        double clusterMs;
        double startMs;
        List<String> startedDuring;
        int members;
        TourContext.Early<ClusterPool> early = ctx.takeEarly(id(), ClusterPool.class);
        ClusterPool started;
        if (early != null) {
            started = early.value();
            startMs = early.millis();
            startedDuring = early.overlapped();
        } else {
            long t0 = System.nanoTime();
            started = ClusterPool.local(2);
            startMs = (System.nanoTime() - t0) / 1e6;
            startedDuring = List.of();
        }
        try (ClusterPool pool = started) {
            members = pool.members().size();
            clusterMs = ctx.medianMillis(() -> pool.map(Workloads.HEAVY, in, chunk));
        }
        ctx.progress().step("cluster: ClusterPool.local(2)");
        table.row("sequential loop", 1, sequential, 1.0);
        table.row("Pool.processes(2)", 2, processes, sequential / processes);
        table.row("ClusterPool.local(2), chunks of " + chunk, members, clusterMs, sequential / clusterMs);
        table.row("ClusterPool.local(2) start (members start and join)", members, startMs, null);
        ctx.record(id() + ".speedup", sequential / clusterMs);
        String reading = interpret(sequential / clusterMs, sequential / processes, startMs, sequential, startedDuring);
        Chart chart = Chart.bars(String.format(Locale.ROOT, "heavy(x) over %,d integers: speed-up over the loop", n),
                "speed-up (x)", "sequential loop", "Pool.processes(2)", "ClusterPool.local(2)")
                .bar("Java", 1.0, sequential / processes, sequential / clusterMs);
        return new Section(id(), String.format(Locale.ROOT, "The heavy map on a cluster: %,d elements", n), table,
                reading, chart);
    }

    static String skippedNote() {
        return "Skipped: the cluster module (multiproc4j-cluster, " + CLUSTER_POOL + ") is not on this build's class"
                + " path, so there is no cluster to measure. Once it is, this section runs the heavy map on"
                + " ClusterPool.local(2) beside Pool.processes(2).";
    }

    /**
     * @param clusterSpeedup loop time / ClusterPool.local(2) time
     * @param processSpeedup loop time / Pool.processes(2) time
     * @param startMs        how long the two members took to start and join
     * @param loopMs         the plain loop's time: the work there was to share
     * @param startedDuring  the sections that ran while the members started in the background (empty: they
     *                       started in this section, with nothing else running)
     * @return what the cluster's speed-up says, beside the loop's and the process pool's
     */
    static String interpret(double clusterSpeedup, double processSpeedup, double startMs, double loopMs,
                            List<String> startedDuring) {
        String vsLoop = switch (Readings.of(clusterSpeedup)) {
            case FASTER -> String.format(Locale.ROOT, "ran %.2fx faster than the plain loop", clusterSpeedup);
            case SAME -> String.format(Locale.ROOT, "ran about as fast as the plain loop (%.2fx)", clusterSpeedup);
            case SLOWER -> String.format(Locale.ROOT, "was %s slower than the plain loop (%.2fx): with %.0f ms of"
                    + " work in all, sending the chunks to the members and the results back cost more than the"
                    + " second member saved", Readings.times(1 / clusterSpeedup), clusterSpeedup, loopMs);
        };
        double ratio = processSpeedup / clusterSpeedup; // above 1: the process pool did better
        Readings.Outcome vsProcesses = Readings.of(ratio);
        String vs = switch (vsProcesses) {
            case SAME -> String.format(Locale.ROOT, "that is about what Pool.processes(2) gave (%.2fx)", processSpeedup);
            case FASTER -> String.format(Locale.ROOT, "Pool.processes(2) did %s better (%.2fx), because each of the"
                    + " cluster's chunks also goes through Hazelcast (serialized into a task, sent over a loopback"
                    + " TCP connection, its result sent back)", Readings.times(ratio), processSpeedup);
            case SLOWER -> String.format(Locale.ROOT, "that is %s better than Pool.processes(2) (%.2fx); both used the same"
                    + " cores of this machine, so the difference lies in how each cut the work into chunks and in"
                    + " this run's noise", Readings.times(1 / ratio), processSpeedup);
        };
        String end = vsProcesses == Readings.Outcome.SLOWER ? ""
                : " On one machine a cluster adds no cores to processes, only a protocol; what it adds is that the"
                + " same Pool code runs on more machines when the work outgrows this one.";
        String start = startedDuring.isEmpty()
                ? String.format(Locale.ROOT, "Starting the two members and waiting for them to join took %,.0f ms",
                        startMs)
                : String.format(Locale.ROOT, "The two members started in the background while the %s section%s ran"
                        + " (the tour starts them there, where no speed is measured, and waited for them before any"
                        + " timing): starting them and waiting for them to join took %,.0f ms, on cores shared with"
                        + " whatever else ran then", Readings.and(startedDuring), startedDuring.size() == 1 ? "" : "s",
                        startMs);
        return String.format(Locale.ROOT, "On two local cluster members the heavy map %s; %s. %s, paid once per"
                + " cluster, not per map.%s", vsLoop, vs, start, end);
    }
}
