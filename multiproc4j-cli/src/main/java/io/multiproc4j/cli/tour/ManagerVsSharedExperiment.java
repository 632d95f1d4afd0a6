package io.multiproc4j.cli.tour;

import io.multiproc4j.cli.report.Chart;
import io.multiproc4j.cli.report.Section;
import io.multiproc4j.cli.report.Table;
import io.multiproc4j.manager.ManagedValue;
import io.multiproc4j.manager.Manager;
import io.multiproc4j.shared.SharedLong;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Managers vs shared memory: the cost of one operation on a value through a manager's proxy (a round
 * trip to the manager's process over a socket) and on a {@link SharedLong} (a load or store in memory
 * mapped by both processes). Both are visible to every process; the difference is where the value
 * lives.
 */
public final class ManagerVsSharedExperiment implements Experiment {

    @Override
    public String id() {
        return "manager-vs-shared";
    }

    @Override
    public String description() {
        return "one operation through a manager's proxy vs on a SharedLong";
    }

    private static int ops(TourContext ctx) {
        return ctx.size(3_000, 1_000, 200);
    }

    @Override
    public int steps(TourContext ctx) {
        return 2;
    }

    @Override
    public Map<String, Object> pythonParams(TourContext ctx) {
        return Map.of("ops", ops(ctx));
    }

    @Override
    public List<String> pythonKeys() {
        return List.of("proxy_set_us", "proxy_get_us", "shared_set_us", "shared_get_us");
    }

    @Override
    public Section run(TourContext ctx) throws Exception {
        int ops = ops(ctx);
        double[] us = new double[4];
        double startMs;
        long t0 = System.nanoTime();
        try (Manager manager = Manager.start()) {
            ManagedValue<Long> value = manager.value("tour-" + ProcessHandle.current().pid());
            value.set(0L);
            startMs = (System.nanoTime() - t0) / 1e6;
            us[0] = ctx.medianMillis(() -> {
                for (int i = 0; i < ops; i++) {
                    value.set((long) i);
                }
            }) * 1000 / ops;
            us[1] = ctx.medianMillis(() -> {
                long sum = 0;
                for (int i = 0; i < ops; i++) {
                    sum += value.get();
                }
                if (sum < 0) {
                    throw new IllegalStateException("impossible sum " + sum);
                }
            }) * 1000 / ops;
        }
        ctx.progress().step("manager proxy");
        try (SharedLong shared = SharedLong.create(0)) {
            // many more operations per sample: one is a few nanoseconds, below the clock's resolution
            int many = ops * 100;
            us[2] = ctx.medianMillis(() -> {
                for (int i = 0; i < many; i++) {
                    shared.set(i);
                }
            }, 3) * 1000 / many;
            us[3] = ctx.medianMillis(() -> {
                long sum = 0;
                for (int i = 0; i < many; i++) {
                    sum += shared.get();
                }
                if (sum < 0) {
                    throw new IllegalStateException("impossible sum " + sum);
                }
            }, 3) * 1000 / many;
        }
        ctx.progress().step("SharedLong");
        Table table = new Table("way", "operation", "µs per operation", "vs SharedLong");
        table.row("Manager.value(...) proxy", "set", us[0], us[0] / us[2]);
        table.row("Manager.value(...) proxy", "get", us[1], us[1] / us[3]);
        table.row("SharedLong", "set", us[2], 1.0);
        table.row("SharedLong", "get", us[3], 1.0);
        table.row(String.format(Locale.ROOT, "Manager.start(): its JVM, once (%,.0f ms)", startMs), "start", null, null);
        String reading = interpret(us[0], us[1], us[2], us[3], startMs);
        Chart chart = Chart.bars("One operation: manager proxy vs shared memory (µs, log)", "µs per operation (log)",
                "proxy set", "proxy get", "shared set", "shared get").logY().bar("Java", us);
        PythonFigures py = ctx.python();
        if (py.has(id())) {
            double[] p = {py.get(id(), "proxy_set_us"), py.get(id(), "proxy_get_us"), py.get(id(), "shared_set_us"),
                    py.get(id(), "shared_get_us")};
            table.row("Python: Manager().Value proxy", "set", p[0], p[0] / p[2]);
            table.row("Python: Manager().Value proxy", "get", p[1], p[1] / p[3]);
            table.row("Python: multiprocessing.Value(lock=False)", "set", p[2], 1.0);
            table.row("Python: multiprocessing.Value(lock=False)", "get", p[3], 1.0);
            chart.bar("Python", p);
            reading += "\n" + String.format(Locale.ROOT, "Python, same operations: a proxy set takes %.1f µs (ours %.1f),"
                    + " a shared Value set %.3f µs (ours %.4f); its shared memory is %s its proxy.", p[0], us[0], p[2],
                    us[2], Readings.times(p[0] / p[2]) + " faster than");
        } else {
            reading += "\n" + py.note(id()) + ".";
        }
        return new Section(id(), String.format(Locale.ROOT, "Managers vs shared memory: %,d operations", ops), table,
                reading, chart);
    }

    /**
     * @return what the four costs say
     */
    static String interpret(double proxySetUs, double proxyGetUs, double sharedSetUs, double sharedGetUs,
                            double startMs) {
        double ratio = proxySetUs / sharedSetUs;
        String head = switch (Readings.of(ratio)) {
            case FASTER -> String.format(Locale.ROOT, "A set through the manager's proxy took %.1f µs and on a"
                    + " SharedLong %.4f µs, %s less: every proxy call is a round trip to the manager's process over a"
                    + " socket (encode, send, wait, decode), while shared memory is a store into memory both processes"
                    + " map.", proxySetUs, sharedSetUs, Readings.times(ratio));
            case SAME, SLOWER -> String.format(Locale.ROOT, "Surprisingly a set through the proxy (%.1f µs) cost no"
                    + " more than on a SharedLong (%.3f µs): the shared-memory figure must have been disturbed; run it"
                    + " again.", proxySetUs, sharedSetUs);
        };
        String get = Readings.of(proxySetUs / proxyGetUs) == Readings.Outcome.SAME
                ? String.format(Locale.ROOT, " A get costs about the same round trip (%.1f µs).", proxyGetUs)
                : String.format(Locale.ROOT, " A get took %.1f µs: the same round trip, with %s work on the way.",
                        proxyGetUs, proxyGetUs < proxySetUs ? "less" : "more");
        return head + get + String.format(Locale.ROOT, " Use a manager for objects shared by many processes or"
                + " machines and changed now and then (its JVM took %,.0f ms to start), shared memory for values"
                + " changed in a loop.", startMs);
    }
}
