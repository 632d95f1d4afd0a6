package io.multiproc4j.bench;

import io.multiproc4j.Pool;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * A/B probe for the first heavy map on a fresh pool (issue 10's "within 1.3× of the steady state"),
 * done as {@link SideBySide#firstHeavyMapRatio} does it: N fresh {@code Pool.processes(2)}; both
 * workers answer tiny tasks; one {@code map(Workloads.HEAVY, 1M)} timed, against the median of the
 * next three. Prints each pool's ratio and the median, and where the CPU went: the workers' CPU by
 * thread group (the worker's main thread, the JIT's C1 and C2 threads, GC, the rest, from each
 * thread's {@code schedstat}, ns), their system time and minor page faults, in the first map and in the median steady map, and this
 * (the pool's) JVM's CPU in each.
 * {@code java -cp 'multiproc4j-bench/target/multiproc4j-bench-0.1.0-SNAPSHOT.jar:multiproc4j-bench/target/lib/*' io.multiproc4j.bench.FirstHeavyProbe [pools] [n]}
 * (jars, so that workers get their AOT cache as a user's would). With
 * {@code -Dfirstheavy.workerOptions="..."} the workers get those options (another AOT cache key unless
 * they name the cache with {@code -XX:AOTCache=}).
 */
public final class FirstHeavyProbe {
    private FirstHeavyProbe() {}

    private static final String[] GROUPS = {"main", "C2", "C1", "GC", "other"};

    /**
     * @param args {@code [pools] [n]}: fresh pools (default 5), elements (default 1,000,000)
     * @throws Exception when a map fails
     */
    public static void main(String[] args) throws Exception {
        int pools = args.length > 0 ? Integer.parseInt(args[0]) : 5;
        int n = args.length > 1 ? Integer.parseInt(args[1]) : 1_000_000;
        List<Integer> inputs = Workloads.inputs(n);
        double[] ratios = new double[pools];
        double[] firstWall = new double[pools];
        double[] steadyWall = new double[pools];
        Map<String, List<Double>> firstCpu = new TreeMap<>();
        Map<String, List<Double>> steadyCpu = new TreeMap<>();
        for (int p = 0; p < pools; p++) {
            try (Pool pool = freshPool()) {
                Set<Long> pids = workerPids(pool);
                Map<String, Double> c0 = cpu(pids);
                long t0 = System.nanoTime();
                pool.map(Workloads.HEAVY, inputs);
                double first = (System.nanoTime() - t0) / 1e6;
                Map<String, Double> c1 = cpu(pids);
                double[] steady = new double[3];
                List<Map<String, Double>> steadyDeltas = new ArrayList<>();
                Map<String, Double> before = c1;
                for (int i = 0; i < steady.length; i++) {
                    long t1 = System.nanoTime();
                    pool.map(Workloads.HEAVY, inputs);
                    steady[i] = (System.nanoTime() - t1) / 1e6;
                    Map<String, Double> after = cpu(pids);
                    steadyDeltas.add(minus(after, before));
                    before = after;
                }
                double median = Workloads.median(steady.clone());
                firstWall[p] = first;
                steadyWall[p] = median;
                ratios[p] = first / median;
                Map<String, Double> d = minus(c1, c0);
                d.forEach((k, v) -> firstCpu.computeIfAbsent(k, x -> new ArrayList<>()).add(v));
                for (String k : d.keySet()) {
                    double[] s = steadyDeltas.stream().mapToDouble(m -> m.getOrDefault(k, 0.0)).toArray();
                    steadyCpu.computeIfAbsent(k, x -> new ArrayList<>()).add(Workloads.median(s));
                }
                System.out.printf(Locale.ROOT, "pool %d: first %.0f ms, steady %.0f ms %s, ratio %.2f; CPU first %s; steady %s%n",
                        p, first, median, Arrays.toString(round(steady)), ratios[p], show(d), show(steadyDeltas.get(1)));
            }
        }
        System.out.printf(Locale.ROOT, "first heavy / steady: median %.2f %s; first %.0f ms, steady %.0f ms (medians)%n",
                Workloads.median(ratios.clone()), Arrays.toString(round2(ratios)), Workloads.median(firstWall),
                Workloads.median(steadyWall));
        System.out.println("  CPU ms, median over pools, first map / steady map: " + table(firstCpu, steadyCpu));
    }

    private static String table(Map<String, List<Double>> first, Map<String, List<Double>> steady) {
        StringBuilder b = new StringBuilder();
        for (String k : first.keySet()) {
            b.append(String.format(Locale.ROOT, "%s %.0f / %.0f; ", k, med(first.get(k)), med(steady.get(k))));
        }
        return b.toString();
    }

    private static double med(List<Double> values) {
        return values == null ? 0 : Workloads.median(values.stream().mapToDouble(Double::doubleValue).toArray());
    }

    private static String show(Map<String, Double> cpu) {
        StringBuilder b = new StringBuilder();
        cpu.forEach((k, v) -> b.append(String.format(Locale.ROOT, "%s %.0f ", k, v)));
        return b.toString().trim();
    }

    private static double[] round(double[] v) {
        return Arrays.stream(v).map(Math::rint).toArray();
    }

    private static double[] round2(double[] v) {
        return Arrays.stream(v).map(x -> Math.rint(x * 100) / 100).toArray();
    }

    private static Map<String, Double> minus(Map<String, Double> a, Map<String, Double> b) {
        Map<String, Double> d = new TreeMap<>();
        a.forEach((k, v) -> d.put(k, v - b.getOrDefault(k, 0.0)));
        return d;
    }

    /** @return CPU ms: the workers' threads by group ("w:" prefix, summed over workers), and "pool" (this JVM) */
    private static Map<String, Double> cpu(Set<Long> pids) throws java.io.IOException {
        Map<String, Double> sum = new TreeMap<>();
        for (String g : GROUPS) {
            sum.put("w:" + g, 0.0);
        }
        for (long pid : pids) {
            try (var tasks = Files.list(Path.of("/proc", Long.toString(pid), "task"))) {
                for (Path task : tasks.toList()) {
                    try {
                        String comm = Files.readString(task.resolve("comm")).trim();
                        String schedstat = Files.readString(task.resolve("schedstat"));
                        double ms = Long.parseLong(schedstat.substring(0, schedstat.indexOf(' '))) / 1e6;
                        sum.merge("w:" + group(comm), ms, Double::sum);
                    } catch (java.io.IOException | RuntimeException e) {
                        // the thread ended meanwhile
                    }
                }
            }
            String[] stat = stat(Path.of("/proc", Long.toString(pid), "stat"));
            sum.merge("w:sys", Long.parseLong(stat[12]) * 10.0, Double::sum); // stime, 10 ms ticks
            sum.merge("w:minflt", Double.parseDouble(stat[7]), Double::sum);
        }
        double pool = 0;
        try (var tasks = Files.list(Path.of("/proc/self/task"))) {
            for (Path task : tasks.toList()) {
                try {
                    String schedstat = Files.readString(task.resolve("schedstat"));
                    pool += Long.parseLong(schedstat.substring(0, schedstat.indexOf(' '))) / 1e6;
                } catch (java.io.IOException | RuntimeException e) {
                    // the thread ended meanwhile
                }
            }
        }
        sum.put("pool", pool); // threads that ended between two reads drop out: a lower bound
        return sum;
    }

    /** @return the fields of a /proc stat file after the command name (state is [0]) */
    private static String[] stat(Path file) throws java.io.IOException {
        String stat = Files.readString(file);
        return stat.substring(stat.lastIndexOf(')') + 2).split(" ");
    }

    private static String group(String comm) {
        if (comm.startsWith("C2 Compiler")) {
            return "C2";
        }
        if (comm.startsWith("C1 Compiler")) {
            return "C1";
        }
        if (comm.startsWith("GC ") || comm.startsWith("G1 ")) {
            return "GC";
        }
        if (comm.startsWith("multiproc4j-w") || comm.equals("java") || comm.startsWith("worker")) {
            return "main";
        }
        return "other";
    }

    private static Pool freshPool() {
        String options = System.getProperty("firstheavy.workerOptions", "").trim();
        return options.isEmpty() ? Pool.processes(2) : Pool.builder().processes(2).jvmOptions(options.split(" +")).build();
    }

    private static Set<Long> workerPids(Pool pool) throws Exception {
        // as SideBySide.idleWorkerRssMb does: both workers answer tiny tasks
        io.multiproc4j.SerializableFunction<Integer, Long> pidOf = x -> ProcessHandle.current().pid();
        Set<Long> found = new java.util.HashSet<>();
        while (found.size() < pool.workers()) {
            found.addAll(pool.map(pidOf, Workloads.inputs(2 * pool.workers()), 1));
        }
        return found;
    }
}
