package io.multiproc4j.cli.tour;

import io.multiproc4j.Pool;
import io.multiproc4j.bench.Workloads;
import io.multiproc4j.cli.report.Chart;
import io.multiproc4j.cli.report.Section;
import io.multiproc4j.cli.report.Table;
import java.lang.reflect.InvocationTargetException;
import java.util.List;
import java.util.Locale;

/**
 * The heavy experiment on a cluster: {@code ClusterPool.local(2)} (two Hazelcast member JVMs on
 * loopback, module {@code multiproc4j-cluster}) against the plain loop and {@code Pool.processes(2)}.
 * The tour compiles without that module: it looks the class up by name at run time, and while the
 * module is not on the class path the section is skipped with a note.
 */
public final class ClusterExperiment implements Experiment {
    static final String CLUSTER_POOL = "io.multiproc4j.cluster.ClusterPool";

    @Override
    public String id() {
        return "cluster";
    }

    @Override
    public String description() {
        return "the heavy map on ClusterPool.local(2) (module multiproc4j-cluster; skipped while absent)";
    }

    @Override
    public int steps(TourContext ctx) {
        return 1;
    }

    /**
     * @param className a class of an optional module
     * @return the class, or null when that module is not on the class path
     */
    static Class<?> optional(String className) {
        try {
            return Class.forName(className, false, ClusterExperiment.class.getClassLoader());
        } catch (ClassNotFoundException | LinkageError e) {
            return null;
        }
    }

    @Override
    public Section run(TourContext ctx) throws Exception {
        Class<?> cluster = optional(CLUSTER_POOL);
        Table table = new Table("way", "workers", "time ms", "speed-up");
        if (cluster == null) {
            ctx.progress().step("cluster: module absent");
            table.row("ClusterPool.local(2)", 2, null, null);
            return new Section(id(), "The heavy map on a cluster (skipped)", table, skippedNote(), null);
        }
        int n = ctx.size(300_000, 100_000, 2_000);
        List<Integer> in = ctx.inputs(n);
        double sequential = ctx.medianMillis(() -> VectorExperiment.sequentialMap(Workloads.HEAVY, in), 3);
        double processes = ctx.medianMillis(() -> ctx.processes(2).map(Workloads.HEAVY, in));
        long t0 = System.nanoTime();
        double clusterMs;
        double startMs;
        try (Pool pool = startLocal(cluster, 2)) {
            startMs = (System.nanoTime() - t0) / 1e6;
            clusterMs = ctx.medianMillis(() -> pool.map(Workloads.HEAVY, in, Math.max(1, n / 16)));
        }
        ctx.progress().step("cluster: ClusterPool.local(2)");
        table.row("sequential loop", 1, sequential, 1.0);
        table.row("Pool.processes(2)", 2, processes, sequential / processes);
        table.row("ClusterPool.local(2)", 2, clusterMs, sequential / clusterMs);
        table.row("ClusterPool.local(2) start (two members join)", 2, startMs, null);
        ctx.record(id() + ".speedup", sequential / clusterMs);
        String reading = interpret(sequential / clusterMs, sequential / processes, startMs);
        Chart chart = Chart.bars(String.format(Locale.ROOT, "heavy(x) over %,d integers: speed-up", n), "speed-up (x)",
                "Pool.processes(2)", "ClusterPool.local(2)").bar("Java", sequential / processes, sequential / clusterMs);
        return new Section(id(), String.format(Locale.ROOT, "The heavy map on a cluster: %,d elements", n), table,
                reading, chart);
    }

    static String skippedNote() {
        return "Skipped: the cluster module (multiproc4j-cluster, " + CLUSTER_POOL + ") is not on this build's class"
                + " path, so there is no cluster to measure. Once it is, this section runs the heavy map on"
                + " ClusterPool.local(2) beside Pool.processes(2).";
    }

    private static Pool startLocal(Class<?> cluster, int members) throws Exception {
        try {
            Object pool = cluster.getMethod("local", int.class).invoke(null, members);
            if (!(pool instanceof Pool p)) {
                throw new IllegalStateException(CLUSTER_POOL + ".local(int) returned " + pool + ", not a Pool");
            }
            return p;
        } catch (InvocationTargetException e) {
            throw e.getCause() instanceof Exception x ? x : e;
        }
    }

    /**
     * @return what the cluster's speed-up says, beside the process pool's
     */
    static String interpret(double clusterSpeedup, double processSpeedup, double startMs) {
        double ratio = processSpeedup / clusterSpeedup;
        String vs = switch (Readings.of(ratio)) {
            case SAME -> "about what Pool.processes(2) gave";
            case FASTER -> String.format(Locale.ROOT, "%s less than Pool.processes(2) (%.2fx): each chunk also crosses"
                    + " Hazelcast's member protocol", Readings.times(ratio), processSpeedup);
            case SLOWER -> String.format(Locale.ROOT, "more than Pool.processes(2) (%.2fx), with fewer, larger chunks",
                    processSpeedup);
        };
        return String.format(Locale.ROOT, "On two local cluster members the heavy map ran %.2fx faster than the loop,"
                + " %s; the members took %.0f ms to start and join. On one machine a cluster buys nothing over"
                + " processes; it is the same step again when the work outgrows the machine.", clusterSpeedup, vs, startMs);
    }
}
