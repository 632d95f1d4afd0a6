package io.multiproc4j.bench;

import io.multiproc4j.Pool;
import io.multiproc4j.ProcessPoolExecutor;
import io.multiproc4j.TaskExecutor;
import java.lang.management.ManagementFactory;
import java.util.Locale;

/**
 * A/B probe for per-task costs on a noisy machine: {@code applyAsync(x -> x + 1).get()} on a
 * {@code Pool.processes(2)} and {@code submit(() -> f(i)).get()} on a {@code ProcessPoolExecutor(2)},
 * each as wall µs per call and this JVM's CPU µs per call (the parent's side of the round trip).
 * {@code java -cp 'multiproc4j-bench/target/classes:multiproc4j-bench/target/lib/*' io.multiproc4j.bench.RoundTripProbe [calls]}.
 */
public final class RoundTripProbe {
    private RoundTripProbe() {}

    /**
     * @param args {@code [calls]}: calls per sample (default 20,000)
     * @throws Exception when a call fails
     */
    public static void main(String[] args) throws Exception {
        int calls = args.length > 0 ? Integer.parseInt(args[0]) : 20_000;
        try (Pool pool = Pool.processes(2)) {
            measure("applyAsync(x -> x + 1).get()", calls, i -> pool.applyAsync(Workloads.LIGHT, i).get());
        }
        try (TaskExecutor executor = ProcessPoolExecutor.create(2)) {
            measure("executor submit(() -> f(i)).get()", calls, i -> executor.submit(() -> Workloads.light(i)).get());
        }
    }

    interface Call {
        void run(int i) throws Exception;
    }

    private static void measure(String what, int calls, Call call) throws Exception {
        var os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        for (int i = 0; i < Math.min(5_000, calls); i++) {
            call.run(i);
        }
        double[] wall = new double[5];
        double[] cpu = new double[5];
        for (int s = 0; s < wall.length; s++) {
            long c0 = os.getProcessCpuTime();
            long t0 = System.nanoTime();
            for (int i = 0; i < calls; i++) {
                call.run(i);
            }
            wall[s] = (System.nanoTime() - t0) / 1e3 / calls;
            cpu[s] = (os.getProcessCpuTime() - c0) / 1e3 / calls;
        }
        System.out.printf(Locale.ROOT, "%-36s median %6.1f µs wall, %6.1f µs parent CPU per call%n", what,
                Workloads.median(wall), Workloads.median(cpu));
    }
}
