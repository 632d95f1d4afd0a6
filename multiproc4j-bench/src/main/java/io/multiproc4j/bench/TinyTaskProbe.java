package io.multiproc4j.bench;

import io.multiproc4j.Pool;
import java.lang.management.ManagementFactory;
import java.util.List;
import java.util.Locale;

/**
 * A/B probe for the chunk-size-1 path: {@code Pool.processes(2).map(x -> x + 1, 100,000 inputs, 1)},
 * 3 warm-up maps then 5 measured, as wall ms, tasks/s and this JVM's CPU ms per map. Run it under
 * {@code perf stat -e raw_syscalls:sys_enter,context-switches,task-clock} (which follows the workers)
 * for system calls and context switches per task, figures a loaded machine does not distort.
 * {@code java -cp 'multiproc4j-bench/target/multiproc4j-bench-0.1.0-SNAPSHOT.jar:multiproc4j-bench/target/lib/*' io.multiproc4j.bench.TinyTaskProbe}.
 */
public final class TinyTaskProbe {
    private TinyTaskProbe() {}

    /**
     * @param args {@code [tasks]}: tasks per map (default 100,000)
     * @throws Exception when a map fails
     */
    public static void main(String[] args) throws Exception {
        int tasks = args.length > 0 ? Integer.parseInt(args[0]) : 100_000;
        var os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        List<Integer> inputs = Workloads.inputs(tasks);
        try (Pool pool = Pool.processes(2)) {
            for (int i = 0; i < 3; i++) {
                pool.map(Workloads.LIGHT, inputs, 1);
            }
            double[] wall = new double[5];
            double[] cpu = new double[5];
            for (int s = 0; s < wall.length; s++) {
                long c0 = os.getProcessCpuTime();
                long t0 = System.nanoTime();
                pool.map(Workloads.LIGHT, inputs, 1);
                wall[s] = (System.nanoTime() - t0) / 1e6;
                cpu[s] = (os.getProcessCpuTime() - c0) / 1e6;
            }
            double median = Workloads.median(wall);
            System.out.printf(Locale.ROOT, "map of %,d tiny tasks, chunk size 1: median %.1f ms wall (%,.0f tasks/s), %.1f ms parent CPU%n",
                    tasks, median, tasks / (median / 1000), Workloads.median(cpu));
        }
    }
}
