package io.multiproc4j.bench;

import io.multiproc4j.Pool;
import io.multiproc4j.SerializableFunction;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * A/B probe for the heavy map ({@link Workloads#HEAVY}, about 437 ns an element): the sequential time
 * in this JVM, the first heavy map on a fresh {@code Pool.processes(2)} (once both workers have
 * answered a tiny task), the steady state, and the first heavy map on a pool that ran light maps
 * before (the case where a worker's compiled batch loop had bet on the light function).
 * {@code java -cp 'multiproc4j-bench/target/multiproc4j-bench-0.1.0-SNAPSHOT.jar:multiproc4j-bench/target/lib/*' io.multiproc4j.bench.HeavyProbe [n]}
 * (jars, so that workers get their AOT cache as a user's would).
 */
public final class HeavyProbe {
    private HeavyProbe() {}

    /**
     * @param args {@code [n]}: elements (default 1,000,000)
     * @throws Exception when a map fails
     */
    public static void main(String[] args) throws Exception {
        int n = args.length > 0 ? Integer.parseInt(args[0]) : 1_000_000;
        List<Integer> inputs = Workloads.inputs(n);
        double[] seq = new double[5];
        var threads = java.lang.management.ManagementFactory.getThreadMXBean();
        for (int i = 0; i < seq.length; i++) {
            long t0 = System.nanoTime();
            long c0 = threads.getCurrentThreadCpuTime();
            SideBySide.sequential(Workloads.HEAVY, inputs);
            seq[i] = (System.nanoTime() - t0) / 1e6;
            System.out.printf(Locale.ROOT, "  sequential: %.0f ms wall, %.0f ms CPU%n", seq[i],
                    (threads.getCurrentThreadCpuTime() - c0) / 1e6);
        }
        double sequential = Workloads.median(Arrays.copyOfRange(seq, 1, seq.length));
        try (Pool pool = freshPool()) {
            findWorkers(pool); // both workers up
            double first = time(() -> pool.map(Workloads.HEAVY, inputs));
            double[] steady = new double[5];
            for (int i = 0; i < steady.length; i++) {
                steady[i] = time(() -> pool.map(Workloads.HEAVY, inputs));
            }
            double median = Workloads.median(steady);
            System.out.printf(Locale.ROOT, "sequential %.1f ms; fresh pool: first heavy map %.1f ms, steady %.1f ms %s: "
                    + "first/steady %.2f, speed-up %.2fx%n", sequential, first, median, Arrays.toString(steady),
                    first / median, sequential / median);
        }
        try (Pool pool = freshPool()) {
            findWorkers(pool);
            SerializableFunction<Integer, Integer> light = Workloads.LIGHT;
            for (int i = 0; i < 5; i++) {
                pool.map(light, inputs);
            }
            double afterLight = time(() -> pool.map(Workloads.HEAVY, inputs));
            double steady = time(() -> pool.map(Workloads.HEAVY, inputs));
            System.out.printf(Locale.ROOT, "after 5 light maps: first heavy map %.1f ms, next %.1f ms: ratio %.2f%n",
                    afterLight, steady, afterLight / steady);
        }
    }

    /**
     * @return {@code Pool.processes(2)}, or with {@code -Dheavyprobe.workerOptions="..."} a pool whose
     *     workers get those options (a JFR recording of the first map, say; another cache key unless
     *     they name the cache themselves with {@code -XX:AOTCache=})
     */
    private static Pool freshPool() {
        String options = System.getProperty("heavyprobe.workerOptions", "").trim();
        return options.isEmpty() ? Pool.processes(2) : Pool.builder().processes(2).jvmOptions(options.split(" +")).build();
    }

    private static Set<Long> pids = Set.of();

    /** @return the wall ms of the body; prints the CPU ms the workers spent in it */
    private static double time(SideBySide.Body body) throws Exception {
        double cpu0 = workerCpu();
        long t0 = System.nanoTime();
        body.run();
        double wall = (System.nanoTime() - t0) / 1e6;
        System.out.printf(Locale.ROOT, "  map: %.0f ms wall, %.0f ms CPU in the workers%n", wall, workerCpu() - cpu0);
        return wall;
    }

    private static double workerCpu() throws java.io.IOException {
        double sum = 0;
        for (long pid : pids) {
            sum += StartProbe.cpuMillis(pid);
        }
        return sum;
    }

    private static void findWorkers(Pool pool) throws Exception {
        SerializableFunction<Integer, Long> pidOf = x -> ProcessHandle.current().pid();
        Set<Long> found = new java.util.HashSet<>();
        while (found.size() < pool.workers()) {
            found.addAll(pool.map(pidOf, Workloads.inputs(2 * pool.workers()), 1));
        }
        pids = found;
    }
}
