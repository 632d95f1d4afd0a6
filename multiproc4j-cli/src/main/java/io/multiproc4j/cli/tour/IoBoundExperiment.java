package io.multiproc4j.cli.tour;

import io.multiproc4j.Pool;
import io.multiproc4j.SerializableFunction;
import io.multiproc4j.bench.Workloads;
import io.multiproc4j.cli.report.Chart;
import io.multiproc4j.cli.report.Section;
import io.multiproc4j.cli.report.Table;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Threads vs processes for I/O-bound work: many blocking HTTP requests to the tour's own slow server,
 * one after another, on a few platform threads, on one platform thread per request, on virtual
 * threads and on worker processes. Then the talk's GIL point: in Python threads help I/O (the GIL is
 * released while a thread blocks) but not CPU-bound work; Java threads run CPU-bound work in parallel
 * too, which the same run's figures show.
 */
public final class IoBoundExperiment implements Experiment {

    @Override
    public String id() {
        return "io-bound";
    }

    @Override
    public String description() {
        return "blocking I/O on platform threads, virtual threads and processes; the GIL point";
    }

    private static int tasks(TourContext ctx) {
        return ctx.size(48, 32, 8);
    }

    private static int delayMs(TourContext ctx) {
        return ctx.size(10, 10, 5);
    }

    private static int cpuSize(TourContext ctx) {
        return ctx.size(200_000, 60_000, 2_000);
    }

    @Override
    public int steps(TourContext ctx) {
        return 6;
    }

    @Override
    public Map<String, Object> pythonParams(TourContext ctx) {
        return Map.of("tasks", tasks(ctx), "ms", delayMs(ctx), "workers", ctx.cores(), "cpu_n", cpuSize(ctx) / 20);
    }

    @Override
    public List<String> pythonKeys() {
        return List.of("sequential_ms", "threads_few_ms", "threads_many_ms", "processes_ms", "cpu_sequential_ms",
                "cpu_threads_ms");
    }

    @Override
    public Section run(TourContext ctx) throws Exception {
        int n = tasks(ctx);
        int ms = delayMs(ctx);
        int cores = ctx.cores();
        Table table = new Table("way", "workers", "time ms", "speed-up", "requests at once (measured)");
        double[] times = new double[5];
        try (LocalHttpServer server = new LocalHttpServer()) {
            List<String> uris = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                uris.add(server.uri(i, ms, 200).toString());
            }
            SerializableFunction<String, Integer> get = uri -> LocalHttpServer.fetch(uri).length();
            times[0] = ctx.medianMillis(() -> uris.forEach(LocalHttpServer::fetch));
            ctx.progress().step("I/O-bound: one after another");
            times[1] = ctx.medianMillis(() -> ctx.threads(cores).map(get, uris, 1));
            ctx.progress().step("I/O-bound: Pool.threads(" + cores + ")");
            times[2] = ctx.medianMillis(() -> ctx.threads(n).map(get, uris, 1));
            ctx.progress().step("I/O-bound: Pool.threads(" + n + ")");
            try (Pool virtual = Pool.virtualThreads()) {
                times[3] = ctx.medianMillis(() -> virtual.map(get, uris, 1));
            }
            ctx.progress().step("I/O-bound: Pool.virtualThreads()");
            times[4] = ctx.medianMillis(() -> ctx.processes(cores).map(get, uris, 1));
            ctx.progress().step("I/O-bound: Pool.processes(" + cores + ")");
        }
        String[] ways = {"one after another", "Pool.threads", "Pool.threads", "Pool.virtualThreads()", "Pool.processes"};
        Object[] workers = {1, cores, n, "one per task", cores};
        for (int i = 0; i < 5; i++) {
            // how many requests were waiting at once on average: the total wait divided by the time taken
            table.row(ways[i], workers[i], times[i], times[0] / times[i], (double) n * ms / times[i]);
        }
        List<Integer> cpuIn = ctx.inputs(cpuSize(ctx));
        double cpuSeq = ctx.medianMillis(() -> VectorExperiment.sequentialMap(Workloads.HEAVY, cpuIn), 3);
        double cpuThreads = ctx.medianMillis(() -> ctx.threads(cores).map(Workloads.HEAVY, cpuIn));
        ctx.progress().step("CPU-bound on threads");
        table.row("CPU-bound heavy(x): loop", 1, cpuSeq, 1.0, null);
        table.row("CPU-bound heavy(x): Pool.threads", cores, cpuThreads, cpuSeq / cpuThreads, null);
        ctx.record(id() + ".virtual-speedup", times[0] / times[3]);
        ctx.record(id() + ".few-threads-speedup", times[0] / times[1]);
        String reading = interpret(n, ms, cores, times) + " " + interpretCpu(cpuSeq / cpuThreads, cores);
        Chart chart = Chart.bars(String.format(Locale.ROOT, "%d blocking requests of %d ms each: time taken", n, ms),
                "time ms", "one after another", "threads(" + cores + ")", "threads(" + n + ")", "virtual threads",
                "processes(" + cores + ")").bar("Java", times);
        PythonFigures py = ctx.python();
        if (py.has(id())) {
            double[] p = {py.get(id(), "sequential_ms"), py.get(id(), "threads_few_ms"), py.get(id(), "threads_many_ms"),
                    Double.NaN, py.get(id(), "processes_ms")};
            String[] pyWays = {"Python: one after another", "Python: ThreadPoolExecutor", "Python: ThreadPoolExecutor",
                    null, "Python: multiprocessing.Pool"};
            Object[] pyWorkers = {1, cores, n, null, cores};
            for (int i = 0; i < 5; i++) {
                if (pyWays[i] != null) {
                    table.row(pyWays[i] + " (time.sleep)", pyWorkers[i], p[i], p[0] / p[i], (double) n * ms / p[i]);
                }
            }
            double pyCpu = py.get(id(), "cpu_sequential_ms") / py.get(id(), "cpu_threads_ms");
            table.row("Python: CPU-bound heavy(x) on ThreadPoolExecutor", cores, py.get(id(), "cpu_threads_ms"), pyCpu,
                    null);
            chart.bar("Python", p);
            reading += "\n" + interpretPython(p[0] / p[2], pyCpu, cpuSeq / cpuThreads, cores);
        } else {
            reading += "\n" + py.note(id()) + ".";
        }
        return new Section(id(), String.format(Locale.ROOT, "I/O-bound work: %d blocking requests of %d ms on"
                + " threads, virtual threads and processes", n, ms), table, reading, chart);
    }

    /**
     * @param times one after another, few threads, one thread per task, virtual threads, processes
     * @return what the I/O figures say
     */
    static String interpret(int n, int ms, int cores, double[] times) {
        double few = times[0] / times[1];
        double many = times[0] / times[2];
        double virtual = times[0] / times[3];
        double processes = times[0] / times[4];
        StringBuilder b = new StringBuilder();
        b.append(String.format(Locale.ROOT, "One after another, %d requests of %d ms took %.0f ms.", n, ms, times[0]));
        if (Readings.of(many) == Readings.Outcome.FASTER && Readings.of(virtual) == Readings.Outcome.FASTER) {
            b.append(String.format(Locale.ROOT, " A thread per request (%s) and virtual threads (%s) made them wait"
                    + " together: a thread blocked in a read holds no core, so the number of threads, not of cores,"
                    + " sets how many requests wait at once; with %d threads or %d processes it was %s and %s.",
                    Readings.times(many), Readings.times(virtual), cores, cores, Readings.times(few),
                    Readings.times(processes)));
            double vr = times[2] / times[3];
            b.append(switch (Readings.of(vr)) {
                case FASTER -> String.format(Locale.ROOT, " Virtual threads were %s faster than as many platform"
                        + " threads, which each cost a kernel thread to start.", Readings.times(vr));
                case SAME -> " Virtual threads and as many platform threads did about as well; virtual threads cost"
                        + " no kernel thread each, which matters at thousands of requests, not at this few.";
                case SLOWER -> String.format(Locale.ROOT, " Platform threads were %s faster than virtual threads"
                        + " here: at this few requests their cost does not show.", Readings.times(1 / vr));
            });
        } else {
            b.append(String.format(Locale.ROOT, " Surprisingly, neither a thread per request (%.2fx) nor virtual"
                    + " threads (%.2fx) made them much faster: the server or this machine's scheduler answered one"
                    + " request at a time in this run.", many, virtual));
        }
        b.append(Readings.of(processes / few) == Readings.Outcome.SLOWER
                ? " Processes were slower than as many threads: each request's task and result also crossed a socket."
                : " Processes did no better than as many threads: for waiting, a process is only a more expensive"
                + " thread.");
        return b.toString();
    }

    /**
     * @param speedup loop time / {@code Pool.threads(cores)} time on CPU-bound work
     * @return what the CPU-bound figure on threads says
     */
    static String interpretCpu(double speedup, int cores) {
        if (cores == 1) {
            return String.format(Locale.ROOT, "On CPU-bound work threads gave %.2fx: this JVM may use one core.", speedup);
        }
        return switch (Readings.of(speedup)) {
            case FASTER -> String.format(Locale.ROOT, "On CPU-bound work %d Java threads ran %.2fx faster than the"
                    + " loop: Java has no global interpreter lock, so threads compute in parallel, not just wait.",
                    cores, speedup);
            case SAME -> String.format(Locale.ROOT, "On CPU-bound work %d Java threads gave only %.2fx: Java has no"
                    + " global interpreter lock, so in this run the cores themselves were busy with other work.",
                    cores, speedup);
            case SLOWER -> String.format(Locale.ROOT, "On CPU-bound work %d Java threads were slower than the loop"
                    + " (%.2fx), which Java's lack of a global interpreter lock does not explain: other load held the"
                    + " cores.", cores, speedup);
        };
    }

    /**
     * @return what Python's figures add: threads help its I/O, not its CPU-bound work
     */
    static String interpretPython(double pyIoSpeedup, double pyCpuSpeedup, double javaCpuSpeedup, int cores) {
        String io = Readings.of(pyIoSpeedup) == Readings.Outcome.FASTER
                ? String.format(Locale.ROOT, "Python's threads sped its blocking calls up %s (the GIL is released while"
                        + " a thread waits)", Readings.times(pyIoSpeedup))
                : String.format(Locale.ROOT, "Python's threads did not speed its blocking calls up (%.2fx)", pyIoSpeedup);
        String cpu = Readings.of(pyCpuSpeedup) == Readings.Outcome.FASTER
                ? String.format(Locale.ROOT, "yet on CPU-bound work its %d threads gave %.2fx, which the GIL should"
                        + " prevent (a free-threaded Python build?)", cores, pyCpuSpeedup)
                : String.format(Locale.ROOT, "but on CPU-bound work its %d threads gave %.2fx, against Java's %.2fx:"
                        + " the GIL lets one thread run Python code at a time, which is why Python needs processes for"
                        + " CPU-bound work and Java does not", cores, pyCpuSpeedup, javaCpuSpeedup);
        return io + ", " + cpu + ".";
    }
}
