package io.multiproc4j.bench;

import io.multiproc4j.Pool;
import io.multiproc4j.SerializableFunction;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * A/B probe for pool start-up on a noisy machine: for fresh pools, the wall time from creation to
 * the first result and the CPU time the worker JVM spent to get there ({@code utime + stime} from
 * {@code /proc/<pid>/stat}, 10 ms ticks), which other load on the machine hardly changes, and its
 * resident size once it answered; and this (the pool's) JVM's CPU over the same interval
 * (all its threads, in ns, so a warm pool JVM's few ms show). Compare
 * {@code -Dmultiproc4j.aot=off} with the default (a worker AOT cache):
 * {@code java [-Dmultiproc4j.aot=off] -cp 'multiproc4j-bench/target/multiproc4j-bench-0.1.0-SNAPSHOT.jar:multiproc4j-bench/target/lib/*' io.multiproc4j.bench.StartProbe [pools] [workers]}.
 * The class path must be jars only: the JDK cannot make an AOT cache for a class directory.
 * {@code -Dstartprobe.workerOptions="..."} passes options to the workers (another key: another cache);
 * {@code -Dmultiproc4j.lifeline=tcp} compares the loopback TCP lifeline with the default Unix-domain socket.
 */
public final class StartProbe {
    private StartProbe() {}

    /**
     * @param args {@code [pools [workers]]}: how many fresh pools (default 8) of how many workers (2)
     * @throws Exception when a pool fails
     */
    public static void main(String[] args) throws Exception {
        int pools = args.length > 0 ? Integer.parseInt(args[0]) : 8;
        int workers = args.length > 1 ? Integer.parseInt(args[1]) : 2;
        SerializableFunction<Integer, Long> pidOf = x -> ProcessHandle.current().pid();
        double[] wall = new double[pools];
        double[] cpu = new double[pools];
        double[] rss = new double[pools];
        double[] poolCpu = new double[pools];
        var os = (com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean();
        java.util.Map<String, java.util.List<Double>> byThread = new java.util.TreeMap<>();
        for (int i = 0; i < pools; i++) {
            long cpu0 = os.getProcessCpuTime();
            long t0 = System.nanoTime();
            String options = System.getProperty("startprobe.workerOptions", "").trim();
            Pool pool = options.isEmpty() ? Pool.processes(workers)
                    : Pool.builder().processes(workers).jvmOptions(options.split(" +")).build();
            try {
                long pid = pool.applyAsync(pidOf, i).get(60, TimeUnit.SECONDS);
                wall[i] = (System.nanoTime() - t0) / 1e6;
                poolCpu[i] = (os.getProcessCpuTime() - cpu0) / 1e6;
                cpu[i] = cpuMillis(pid);
                threadCpu(pid).forEach((name, ms) -> byThread.computeIfAbsent(name, k -> new java.util.ArrayList<>()).add(ms));
                rss[i] = SideBySide.rssMb(pid);
            } finally {
                pool.terminate();
            }
        }
        System.out.printf(Locale.ROOT, "aot=%s lifeline=%s: creation to first result median %.1f ms %s; that worker's CPU median %.0f ms %s;"
                        + " its resident size then %.1f MB%n",
                System.getProperty("multiproc4j.aot", "default"), System.getProperty("multiproc4j.lifeline", "unix"),
                Workloads.median(wall), Arrays.toString(wall),
                Workloads.median(cpu), Arrays.toString(cpu), Workloads.median(rss));
        System.out.printf(Locale.ROOT, "  this (the pool's) JVM's CPU from creation to first result: median %.0f ms %s%n",
                Workloads.median(poolCpu), Arrays.toString(poolCpu));
        StringBuilder threads = new StringBuilder("  that worker's CPU by thread (median ms, threads with any):");
        byThread.forEach((name, ms) -> threads.append(String.format(Locale.ROOT, " %s %.0f;", name,
                Workloads.median(ms.stream().mapToDouble(Double::doubleValue).toArray()))));
        System.out.println(threads);
    }

    /**
     * @return the CPU ms each group of a process's threads has used, by thread name (digits dropped:
     *     the JIT's compiler threads, GC, the main thread...), from /proc/PID/task (Linux; empty elsewhere)
     */
    static java.util.Map<String, Double> threadCpu(long pid) {
        java.util.Map<String, Double> byName = new java.util.TreeMap<>();
        try (var tasks = Files.list(Path.of("/proc", Long.toString(pid), "task"))) {
            for (Path task : tasks.toList()) {
                try {
                    String stat = Files.readString(task.resolve("stat"));
                    String name = stat.substring(stat.indexOf('(') + 1, stat.lastIndexOf(')')).replaceAll("[0-9]+", "#");
                    String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
                    byName.merge(name, (Long.parseLong(fields[11]) + Long.parseLong(fields[12])) * 10.0, Double::sum);
                } catch (java.io.IOException | RuntimeException e) {
                    // the thread ended meanwhile
                }
            }
        } catch (java.io.IOException e) {
            // not Linux
        }
        return byName;
    }

    /** @return the CPU time a process has used, from /proc (Linux), in ms */
    static double cpuMillis(long pid) throws java.io.IOException {
        String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
        String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return (Long.parseLong(fields[11]) + Long.parseLong(fields[12])) * 10.0; // utime, stime at 100 Hz
    }
}
