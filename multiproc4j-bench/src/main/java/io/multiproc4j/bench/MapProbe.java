package io.multiproc4j.bench;

import com.sun.management.ThreadMXBean;
import io.multiproc4j.Pool;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.util.List;
import java.util.Locale;

/**
 * A/B probe for the light map, for judging a change on a noisy machine by more than wall time: per
 * map it prints wall time (of the map, and of the map plus one iteration of its results), this JVM's CPU time (all threads), the workers' CPU time (from /proc, 10 ms
 * ticks), the bytes this JVM allocated, and the collections and their time. Run in the user's configuration (default G1, no options):
 * {@code java -cp 'multiproc4j-bench/target/classes:multiproc4j-bench/target/lib/*' io.multiproc4j.bench.MapProbe [maps] [n]}.
 */
public final class MapProbe {
    private MapProbe() {}

    /**
     * @param args {@code [maps [n [chunkSize]]]}: how many maps (default 15), of how many integers (1,000,000)
     * @throws Exception when a map fails
     */
    public static void main(String[] args) throws Exception {
        int maps = args.length > 0 ? Integer.parseInt(args[0]) : 15;
        int n = args.length > 1 ? Integer.parseInt(args[1]) : 1_000_000;
        int chunk = args.length > 2 ? Integer.parseInt(args[2]) : 0;
        List<Integer> inputs = Workloads.inputs(n);
        var os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        var threads = (ThreadMXBean) ManagementFactory.getThreadMXBean();
        List<GarbageCollectorMXBean> gcs = ManagementFactory.getGarbageCollectorMXBeans();
        try (Pool pool = Pool.processes(2)) {
            pool.map(Workloads.LIGHT, Workloads.inputs(1_000), 1);
            io.multiproc4j.SerializableFunction<Integer, Long> pidOf = x -> ProcessHandle.current().pid();
            java.util.Set<Long> pids = new java.util.HashSet<>();
            while (pids.size() < pool.workers()) {
                pids.addAll(pool.map(pidOf, Workloads.inputs(4), 1));
            }
            double[] wall = new double[maps];
            double[] cpu = new double[maps];
            double[] iterated = new double[maps];
            double[] workersCpu = new double[maps];
            java.util.Map<String, Long> threadCpu = new java.util.TreeMap<>();
            for (int m = 0; m < maps; m++) {
                if (m == maps / 2) {
                    threadCpu(threads, threadCpu, -1);
                }
                long cpu0 = os.getProcessCpuTime();
                double workers0 = workerCpu(pids);
                long alloc0 = threads.getTotalThreadAllocatedBytes();
                long gcCount0 = gcCount(gcs);
                long gcTime0 = gcTime(gcs);
                long t0 = System.nanoTime();
                List<Integer> out = pool.map(Workloads.LIGHT, inputs, chunk);
                long t1 = System.nanoTime();
                // What a user does with the results, once: the result list may box lazily, so its
                // cost is timed too (the "+ iterate" column; Python's side iterates as well).
                long sum = 0;
                for (Integer x : out) {
                    sum += x;
                }
                long t2 = System.nanoTime();
                if (out.size() != n || sum != (long) n * (n + 1) / 2) {
                    throw new IllegalStateException("wrong results");
                }
                wall[m] = (t1 - t0) / 1e6;
                iterated[m] = (t2 - t0) / 1e6;
                cpu[m] = (os.getProcessCpuTime() - cpu0) / 1e6;
                workersCpu[m] = workerCpu(pids) - workers0;
                System.out.printf(Locale.ROOT, "map %2d: %7.1f ms wall (%5.1f + iterate), %7.1f ms parent CPU, %5.0f ms workers' CPU, %6.1f MB allocated, %d GCs %d ms%n",
                        m, wall[m], iterated[m], cpu[m], workersCpu[m], (threads.getTotalThreadAllocatedBytes() - alloc0) / 1e6,
                        gcCount(gcs) - gcCount0, gcTime(gcs) - gcTime0);
            }
            threadCpu(threads, threadCpu, 1);
            int last = maps - maps / 2;
            StringBuilder byThread = new StringBuilder();
            threadCpu.forEach((name, nanos) -> {
                if (nanos / last >= 100_000) {
                    byThread.append(String.format(Locale.ROOT, " %s %.1f,", name, nanos / 1e6 / last));
                }
            });
            System.out.println("this JVM's CPU per map by thread over the last " + last + " (ms, exact):" + byThread);
            double[] lastHalfWall = java.util.Arrays.copyOfRange(wall, maps / 2, maps);
            double[] lastHalfCpu = java.util.Arrays.copyOfRange(cpu, maps / 2, maps);
            double[] lastHalfIterated = java.util.Arrays.copyOfRange(iterated, maps / 2, maps);
            System.out.printf(Locale.ROOT, "median of the last %d: %.1f ms wall, %.1f ms with one iteration of the results, %.1f ms parent CPU%n",
                    lastHalfWall.length, Workloads.median(lastHalfWall), Workloads.median(lastHalfIterated), Workloads.median(lastHalfCpu));
            if (maps >= 8) {
                // SideBySide full times maps 3..7 of its pool (3 warm-ups, 5 timed): is that steady yet?
                double[] window = java.util.Arrays.copyOfRange(wall, 3, 8);
                System.out.printf(Locale.ROOT, "median of maps 3..7 (SideBySide full's window): %.1f ms wall%n",
                        Workloads.median(window));
            }
            // CPU times come in 10 ms ticks: their mean over many maps is finer than any one map's
            System.out.printf(Locale.ROOT, "mean CPU per map over the last %d: %.1f ms parent, %.1f ms workers (both)%n",
                    lastHalfWall.length, mean(lastHalfCpu), mean(java.util.Arrays.copyOfRange(workersCpu, maps / 2, maps)));
        }
    }

    /** Adds each live thread's CPU time, times {@code sign}, to its name's total (threads of one name summed). */
    private static void threadCpu(ThreadMXBean threads, java.util.Map<String, Long> into, int sign) {
        long[] ids = threads.getAllThreadIds();
        java.lang.management.ThreadInfo[] infos = threads.getThreadInfo(ids);
        for (int i = 0; i < ids.length; i++) {
            long nanos = threads.getThreadCpuTime(ids[i]);
            if (infos[i] != null && nanos >= 0) {
                into.merge(infos[i].getThreadName().replaceAll("-?\\d+$", ""), sign * nanos, Long::sum);
            }
        }
    }

    private static double mean(double[] values) {
        double sum = 0;
        for (double v : values) sum += v;
        return values.length == 0 ? 0 : sum / values.length;
    }

    private static double workerCpu(java.util.Set<Long> pids) throws java.io.IOException {
        double sum = 0;
        for (long pid : pids) {
            sum += StartProbe.cpuMillis(pid);
        }
        return sum;
    }

    private static long gcCount(List<GarbageCollectorMXBean> gcs) {
        long c = 0;
        for (var gc : gcs) c += Math.max(0, gc.getCollectionCount());
        return c;
    }

    private static long gcTime(List<GarbageCollectorMXBean> gcs) {
        long c = 0;
        for (var gc : gcs) c += Math.max(0, gc.getCollectionTime());
        return c;
    }

}
