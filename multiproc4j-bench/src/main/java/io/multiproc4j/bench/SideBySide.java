package io.multiproc4j.bench;

import io.multiproc4j.Pool;
import io.multiproc4j.ProcessPoolExecutor;
import io.multiproc4j.SerializableFunction;
import io.multiproc4j.TaskExecutor;
import io.multiproc4j.internal.supervise.AotCache;
import io.multiproc4j.internal.supervise.JvmCommand;
import io.multiproc4j.internal.worker.WorkerMain;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.TimeUnit;

/**
 * Runs the pool benchmarks in Java and, in the same run, the same workloads in Python's
 * {@code multiprocessing} (when {@code python3} is on the PATH), and reports medians and ratios.
 *
 * <p>What is measured (Java | Python):
 * <ol>
 *   <li>warm task round trip: {@code applyAsync(x -> x + 1, i).get()} | {@code apply_async(...).get()}, and
 *       {@code concurrent.futures.ProcessPoolExecutor.submit(...).result()}, µs</li>
 *   <li>{@code Pool.processes(2).map(x -> x + 1)} over 1,000,000 integers | {@code Pool(2).map}, ms, each
 *       with one pass over the results (the Java list boxes an element when it is read)</li>
 *   <li>heavy variant: sequential time / {@code Pool.processes(2).map} time, speed-up on 2 workers; and the
 *       first heavy map on a fresh pool against its steady state</li>
 *   <li>map of tiny tasks with chunk size 1, tasks/s</li>
 *   <li>{@code Pool.processes(2)} creation to first result, ms, with the workers' AOT cache and without it
 *       (A/B in the same run; the cache needs a class path of jars)</li>
 *   <li>{@code Pool.threads(2).map} vs a bare {@link ForkJoinPool} running the same chunks (Java only, in a JVM of
 *       its own: {@link ThreadPoolOverheadProbe}), median of paired ratios</li>
 *   <li>an idle worker's resident set size ({@code VmRSS} from {@code /proc/<pid>/status}), MB</li>
 * </ol>
 * The map figures depend on the pool JVM's collector: the targets are for the default (G1), which a
 * plain {@code java} gives. Run: {@code java -cp 'multiproc4j-bench/target/multiproc4j-bench-0.1.0-SNAPSHOT.jar:multiproc4j-bench/target/lib/*'
 * io.multiproc4j.bench.SideBySide [full|quick]}, or {@code bin/multiproc bench} (whose JVM uses ParallelGC).
 */
public final class SideBySide {

    /**
     * The size of a run.
     * @param name        full, quick or tiny
     * @param repetitions timed runs per figure, after a warm-up
     * @param roundTrips  round trips per sample
     * @param vector      elements of the map benchmark (the talk's 1,000,000)
     * @param tinyTasks   tasks of the chunk-size-1 benchmark
     * @param heavy       elements of the heavy benchmark
     */
    public record Mode(String name, int repetitions, int roundTrips, int vector, int tinyTasks, int heavy) {
        /** Every figure in docs/BENCHMARKS.md. */
        public static final Mode FULL = new Mode("full", 5, 20_000, 1_000_000, 100_000, 1_000_000);
        /** About a minute. */
        public static final Mode QUICK = new Mode("quick", 3, 5_000, 1_000_000, 100_000, 300_000);
        /** Seconds; for testing the runner itself. */
        public static final Mode TINY = new Mode("tiny", 1, 50, 10_000, 1_000, 5_000);

        /**
         * @param name full, quick or tiny
         * @return the mode
         */
        public static Mode named(String name) {
            return switch (name) {
                case "full" -> FULL;
                case "quick" -> QUICK;
                case "tiny" -> TINY;
                default -> throw new IllegalArgumentException("mode must be full, quick or tiny, was " + name);
            };
        }
    }

    /**
     * One benchmark, side by side.
     * @param id             a stable key
     * @param what           what it measures
     * @param unit           of the figures
     * @param java           the Java figure (median)
     * @param python         the Python figure (median), or null when not measured
     * @param higherIsBetter whether a larger figure is better (throughput, speed-up)
     * @param target         the target this figure is held to, in words; null for a figure shown for reference
     * @param met            whether the Java figure meets the target (true when there is none)
     */
    public record Row(String id, String what, String unit, double java, Double python, boolean higherIsBetter,
                      String target, boolean met) {
        /** @return how many times better Java is than Python (above 1: Java better), or null */
        public Double javaAdvantage() {
            if (python == null || python.isNaN() || java == 0) {
                return null;
            }
            return higherIsBetter ? java / python : python / java;
        }
    }

    /**
     * The outcome of a run.
     * @param rows          the benchmarks
     * @param pythonVersion the Python version compared against, or null
     * @param pythonNote    why Python was not compared, or null
     */
    public record Result(List<Row> rows, String pythonVersion, String pythonNote) {}

    private SideBySide() {}

    /**
     * Runs every benchmark.
     * @param mode          the sizes
     * @param comparePython whether to run the Python side (skipped with a note when python3 is absent)
     * @param progress      where to say what is running
     * @return the rows
     * @throws Exception when a measurement fails
     */
    public static Result run(Mode mode, boolean comparePython, PrintStream progress) throws Exception {
        Map<String, Double> py = new HashMap<>();
        String pyVersion = null;
        String pyNote = null;
        if (comparePython) {
            progress.println("bench: Python multiprocessing side (python3 " + mode.name() + ")...");
            try {
                Map<String, String> raw = runPython(mode);
                pyVersion = raw.remove("version");
                raw.forEach((k, v) -> py.put(k, Double.parseDouble(v)));
            } catch (PythonUnavailable e) {
                pyNote = e.getMessage();
                progress.println("bench: " + pyNote);
            }
        } else {
            pyNote = "Python comparison not requested (--compare python)";
        }
        List<Row> rows = new ArrayList<>();
        progress.println("bench: Java side...");
        // Workers of a new build have no AOT cache yet: let its training (a JVM started by the first
        // worker spawn) finish first, so it neither competes with the measurements nor is missing.
        workersGetAotCache();
        awaitAotCache(progress);
        List<Integer> vector = Workloads.inputs(mode.vector());
        try (Pool pool = Pool.processes(2)) {
            pool.map(Workloads.LIGHT, Workloads.inputs(1_000), 1);

            double rt = roundTripMicros(pool, mode);
            rows.add(row("roundtrip", "warm task round trip, applyAsync(x -> x + 1).get()", "µs", rt,
                    py.get("roundtrip_us"), false, "<= 20 µs", rt <= 20));
            rows.add(row("roundtrip-cf", "the same round trip vs concurrent.futures.ProcessPoolExecutor(2)"
                    + ".submit(f, i).result()", "µs", rt, py.get("cf_roundtrip_us"), false, null, true));
            progress.println("bench: round trip done");

            // Warm: the pool JVM's packing and result assembly get compiled during the first few maps.
            // Timed with one pass over the results, on both sides: the result list boxes each element
            // when it is read, so what a user does with it is part of the cost (map5).
            double map = medianMillis(mode, 3, () -> iterateOnce(pool.map(Workloads.LIGHT, vector)));
            Double pyMap = py.get("map1m_ms");
            rows.add(row("map1m", String.format(Locale.ROOT, "Pool.processes(2).map(x -> x + 1) over %,d integers, then one pass over the results (%s)",
                    mode.vector(), collector()), "ms", map, pyMap, false, "<= 20 ms and >= 6x faster than Python",
                    map <= 20 && (pyMap == null || pyMap / map >= 6)));
            progress.println("bench: map over " + mode.vector() + " done");

            List<Integer> heavyIn = Workloads.inputs(mode.heavy());
            double seq = medianMillis(mode, () -> sequential(Workloads.HEAVY, heavyIn));
            double par = medianMillis(mode, () -> pool.map(Workloads.HEAVY, heavyIn));
            rows.add(row("heavy-speedup", String.format(Locale.ROOT,
                    "heavy map speed-up on 2 workers (%,d elements; Python: fewer, same per-element work)", mode.heavy()),
                    "x", seq / par, py.get("heavy_speedup"), true, ">= 1.85x", seq / par >= 1.85));
            double cold = firstHeavyMapRatio(mode, heavyIn);
            rows.add(row("heavy-first", "first heavy map on a fresh Pool.processes(2) / its steady state", "ratio", cold,
                    null, false, "<= 1.3", cold <= 1.3));
            progress.println("bench: heavy speed-up done");

            List<Integer> tiny = Workloads.inputs(mode.tinyTasks());
            double tinyMs = medianMillis(mode, () -> pool.map(Workloads.LIGHT, tiny, 1));
            double tps = mode.tinyTasks() / (tinyMs / 1000);
            rows.add(row("tiny-tasks", String.format(Locale.ROOT, "map of %,d tiny tasks, chunk size 1",
                    mode.tinyTasks()), "tasks/s", tps, py.get("tiny_tasks_per_s"), true, ">= 500,000 tasks/s",
                    tps >= 500_000));
            progress.println("bench: tiny tasks done");

            double used = idleWorkerRssMb(pool);
            rows.add(row("busy-rss", "worker JVM resident size (VmRSS) after the runs above", "MB", used,
                    null, false, null, true));
        }
        try (Pool fresh = Pool.processes(2)) {
            double rss = idleWorkerRssMb(fresh);
            rows.add(row("idle-rss", "idle worker JVM resident size (VmRSS), default options", "MB", rss,
                    py.get("idle_worker_rss_mb"), false, "<= 64 MB", rss <= 64));
            progress.println("bench: idle worker size done");
        }

        // Same run, A/B: workers without the AOT cache, then with it (the first pool above started its training).
        System.setProperty(AotCache.PROPERTY, "off");
        double startNoAot;
        try {
            startNoAot = createToFirstResultMillis(mode);
        } finally {
            System.clearProperty(AotCache.PROPERTY);
        }
        boolean cached = workersGetAotCache();
        double start = createToFirstResultMillis(mode);
        rows.add(row("create-first", "Pool.processes(2) creation to first result" + (cached ? " (worker AOT cache)"
                        : " (no AOT cache: " + aotNote() + ")"), "ms", start,
                py.get("create_first_result_ms"), false, "<= 100 ms", start <= 100));
        rows.add(row("create-first-noaot", "the same without the AOT cache (-Dmultiproc4j.aot=off)", "ms", startNoAot,
                py.get("create_first_result_ms"), false, null, true));
        progress.println("bench: pool start done");

        try (TaskExecutor executor = ProcessPoolExecutor.create(2)) {
            double submitUs = executorRoundTripMicros(executor, mode);
            rows.add(row("executor-roundtrip", "ProcessPoolExecutor(2).submit(() -> ...).get() vs ProcessPoolExecutor.submit().result()",
                    "µs", submitUs, py.get("cf_roundtrip_us"), false, "<= 30 µs", submitUs <= 30));
            List<Callable<Integer>> tasks = new ArrayList<>(mode.tinyTasks());
            for (int i = 0; i < mode.tinyTasks(); i++) {
                int n = i;
                tasks.add((Callable<Integer> & java.io.Serializable) () -> Workloads.light(n));
            }
            double invokeMs = medianMillis(mode, () -> {
                try {
                    executor.invokeAll(tasks);
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            });
            double perSecond = mode.tinyTasks() / (invokeMs / 1000);
            rows.add(row("executor-invokeall", String.format(Locale.ROOT,
                            "invokeAll of %,d tiny tasks vs executor.map(chunksize=1)", mode.tinyTasks()), "tasks/s",
                    perSecond, py.get("cf_tiny_tasks_per_s"), true, ">= 200,000 tasks/s", perSecond >= 200_000));
        }
        progress.println("bench: executor done");

        double ratio = threadPoolOverhead(mode, vector);
        rows.add(row("threads-vs-fj", "Pool.threads(2).map time / bare ForkJoinPool(2) on the same chunks, own JVM, median of pairs", "ratio",
                ratio, null, false, "<= 1.2", ratio <= 1.2));
        progress.println("bench: thread pool overhead done");
        return new Result(rows, pyVersion, pyNote);
    }

    private static Row row(String id, String what, String unit, double java, Double python, boolean higher,
                           String target, boolean met) {
        return new Row(id, what, unit, java, python, higher, target, met);
    }

    static double roundTripMicros(Pool pool, Mode mode) throws Exception {
        for (int i = 0; i < Math.min(2_000, mode.roundTrips()); i++) {
            pool.applyAsync(Workloads.LIGHT, i).get();
        }
        double[] samples = new double[Math.max(3, mode.repetitions())];
        for (int s = 0; s < samples.length; s++) {
            long t0 = System.nanoTime();
            for (int i = 0; i < mode.roundTrips(); i++) {
                pool.applyAsync(Workloads.LIGHT, i).get();
            }
            samples[s] = (System.nanoTime() - t0) / 1e3 / mode.roundTrips();
        }
        return Workloads.median(samples);
    }

    static double executorRoundTripMicros(TaskExecutor executor, Mode mode) throws Exception {
        for (int i = 0; i < Math.min(2_000, mode.roundTrips()); i++) {
            int n = i;
            executor.submit(() -> Workloads.light(n)).get();
        }
        double[] samples = new double[Math.max(3, mode.repetitions())];
        for (int s = 0; s < samples.length; s++) {
            long t0 = System.nanoTime();
            for (int i = 0; i < mode.roundTrips(); i++) {
                int n = i;
                executor.submit(() -> Workloads.light(n)).get();
            }
            samples[s] = (System.nanoTime() - t0) / 1e3 / mode.roundTrips();
        }
        return Workloads.median(samples);
    }

    /**
     * The first heavy map on a fresh pool (both workers up, having run only two tiny tasks) against the
     * median of the next ones: how much cold and deoptimized worker code costs.
     */
    static double firstHeavyMapRatio(Mode mode, List<Integer> heavyIn) throws Exception {
        double[] ratios = new double[Math.max(1, mode.repetitions() / 2)];
        for (int r = 0; r < ratios.length; r++) {
            try (Pool fresh = Pool.processes(2)) {
                idleWorkerRssMb(fresh); // waits until both workers answered
                long t0 = System.nanoTime();
                fresh.map(Workloads.HEAVY, heavyIn);
                double first = (System.nanoTime() - t0) / 1e6;
                double[] steady = new double[3];
                for (int i = 0; i < steady.length; i++) {
                    long t1 = System.nanoTime();
                    fresh.map(Workloads.HEAVY, heavyIn);
                    steady[i] = (System.nanoTime() - t1) / 1e6;
                }
                ratios[r] = first / Workloads.median(steady);
            }
        }
        return Workloads.median(ratios);
    }

    /** Waits (up to a minute) for the trainer started by this run's first pool to write the workers' cache. */
    static boolean awaitAotCache(PrintStream progress) throws Exception {
        if (!AotCache.enabled() || aotNote() != null) {
            return false;
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        boolean said = false;
        while (System.nanoTime() < deadline) {
            if (workersGetAotCache()) {
                return true;
            }
            if (!said) {
                progress.println("bench: waiting for the worker AOT cache to be written...");
                said = true;
            }
            Thread.sleep(200);
        }
        return false;
    }

    /** @return why workers cannot have an AOT cache here, or null */
    static String aotNote() {
        if (!AotCache.enabled()) {
            return "turned off";
        }
        for (String entry : System.getProperty("java.class.path", "").split(java.io.File.pathSeparator)) {
            Path p = Path.of(entry);
            try (var children = Files.isDirectory(p) ? Files.list(p) : null) {
                if (children != null && children.findAny().isPresent()) {
                    return "a class directory on the class path (" + entry + "); run from jars";
                }
            } catch (IOException e) {
                return e.toString();
            }
        }
        return null;
    }

    /** @return whether a worker started now gets an AOT cache (asking the code that builds its command) */
    private static boolean workersGetAotCache() {
        return JvmCommand.forMain(List.of(), WorkerMain.class.getName(), null).stream()
                .anyMatch(option -> option.startsWith("-XX:AOTCache="));
    }

    /** @return the pool JVM's collector, in words */
    static String collector() {
        List<String> names = ManagementFactory.getGarbageCollectorMXBeans().stream().map(b -> b.getName()).toList();
        return names.stream().anyMatch(n -> n.startsWith("G1")) ? "pool JVM on G1"
                : names.stream().anyMatch(n -> n.startsWith("PS ")) ? "pool JVM on ParallelGC" : "pool JVM on " + names;
    }

    static double createToFirstResultMillis(Mode mode) throws Exception {
        double[] samples = new double[Math.max(3, mode.repetitions())];
        for (int s = 0; s < samples.length; s++) {
            long t0 = System.nanoTime();
            Pool pool = Pool.processes(2);
            try {
                pool.applyAsync(Workloads.LIGHT, 1).get(60, TimeUnit.SECONDS);
                samples[s] = (System.nanoTime() - t0) / 1e6;
            } finally {
                pool.terminate();
            }
        }
        return Workloads.median(samples);
    }

    /**
     * The same chunks of x + 1 on {@code Pool.threads(2)} and on a bare {@code ForkJoinPool(2)}, in a JVM
     * of its own with the default options: see {@link ThreadPoolOverheadProbe} for why not in this one.
     */
    static double threadPoolOverhead(Mode mode, List<Integer> vector) throws Exception {
        return ThreadPoolOverheadProbe.measureInOwnJvm(8 * mode.repetitions() + 1, vector.size());
    }

    /** Finds every worker's pid by asking workers (tiny tasks only), then reads their mean VmRSS. */
    static double idleWorkerRssMb(Pool pool) throws Exception {
        SerializableFunction<Integer, Long> pidOf = x -> ProcessHandle.current().pid();
        Set<Long> pids = new LinkedHashSet<>();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (pids.size() < pool.workers() && System.nanoTime() < deadline) {
            pids.addAll(pool.map(pidOf, Workloads.inputs(2 * pool.workers()), 1));
        }
        double sum = 0;
        for (long pid : pids) {
            sum += rssMb(pid);
        }
        return sum / pids.size();
    }

    /**
     * @param pid a process on this machine
     * @return its resident set size in MB, from {@code /proc/<pid>/status}
     * @throws IOException when it cannot be read (not Linux, or the process is gone)
     */
    public static double rssMb(long pid) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024.0;
            }
        }
        throw new IOException("no VmRSS line for pid " + pid);
    }

    static <T, R> List<R> sequential(SerializableFunction<T, R> fn, List<T> in) {
        List<R> out = new ArrayList<>(in.size());
        for (T v : in) {
            out.add(fn.apply(v));
        }
        return out;
    }

    interface Body {
        void run() throws Exception;
    }

    /** Reads every result once, as a user's loop would; the sum keeps the JIT from dropping the reads. */
    static long iterateOnce(List<Integer> results) {
        long sum = 0;
        for (Integer x : results) {
            sum += x;
        }
        if (sum == Long.MIN_VALUE) {
            throw new IllegalStateException("unreachable");
        }
        return sum;
    }

    static double medianMillis(Mode mode, Body body) throws Exception {
        return medianMillis(mode, 1, body);
    }

    static double medianMillis(Mode mode, int warmups, Body body) throws Exception {
        for (int i = 0; i < warmups; i++) {
            body.run();
        }
        double[] samples = new double[mode.repetitions()];
        for (int i = 0; i < samples.length; i++) {
            long t0 = System.nanoTime();
            body.run();
            samples[i] = (System.nanoTime() - t0) / 1e6;
        }
        return Workloads.median(samples);
    }

    /** Python could not be run: the message says why, for the report. */
    static final class PythonUnavailable extends Exception {
        private static final long serialVersionUID = 1L;

        PythonUnavailable(String message) {
            super(message);
        }
    }

    private static Map<String, String> runPython(Mode mode) throws IOException, InterruptedException, PythonUnavailable {
        String python = findOnPath("python3");
        if (python == null) {
            throw new PythonUnavailable("python3 is not on the PATH: Python's multiprocessing was not compared");
        }
        Path script = Files.createTempFile("multiproc4j-side-by-side", ".py");
        try (InputStream in = SideBySide.class.getResourceAsStream("side_by_side.py")) {
            if (in == null) {
                throw new IOException("side_by_side.py is missing from the bench jar");
            }
            Files.write(script, in.readAllBytes());
            Process p = new ProcessBuilder(python, script.toString(), mode.name()).redirectErrorStream(true).start();
            String output;
            try {
                p.getOutputStream().close();
                output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                if (!p.waitFor(10, TimeUnit.MINUTES) || p.exitValue() != 0) {
                    throw new PythonUnavailable("the Python side failed (exit " + (p.isAlive() ? "timeout" : p.exitValue())
                            + "): " + output.strip().lines().reduce((a, b) -> b).orElse(""));
                }
            } finally {
                p.destroyForcibly();
            }
            Map<String, String> values = new HashMap<>();
            for (String line : output.split("\n")) {
                String[] kv = line.trim().split(" ", 2);
                if (kv.length == 2) {
                    values.put(kv[0], kv[1].trim());
                }
            }
            return values;
        } finally {
            Files.deleteIfExists(script);
        }
    }

    private static String findOnPath(String name) {
        String path = System.getenv("PATH");
        if (path == null) {
            return null;
        }
        for (String dir : path.split(java.io.File.pathSeparator)) {
            Path candidate = Path.of(dir, name);
            if (Files.isExecutable(candidate)) {
                return candidate.toString();
            }
        }
        return null;
    }

    /**
     * Prints the side-by-side table.
     * @param args {@code [full|quick|tiny] [--no-python]}
     * @throws Exception when a measurement fails
     */
    public static void main(String[] args) throws Exception {
        Mode mode = Mode.named(args.length > 0 ? args[0] : "full");
        boolean python = args.length < 2 || !args[1].equals("--no-python");
        Result r = run(mode, python, System.err);
        System.out.printf(Locale.ROOT, "%-70s %14s %14s %10s  %s%n", "benchmark", "Java", "Python", "Java adv.", "target");
        for (Row row : r.rows()) {
            System.out.printf(Locale.ROOT, "%-70s %10.2f %-3s %10s %-3s %10s  %s %s%n", row.what(), row.java(), row.unit(),
                    row.python() == null ? "-" : String.format(Locale.ROOT, "%.2f", row.python()), row.unit(),
                    row.javaAdvantage() == null ? "-" : String.format(Locale.ROOT, "%.1fx", row.javaAdvantage()),
                    row.target() == null ? "" : row.target(), row.target() == null ? "" : row.met() ? "(met)" : "(MISSED)");
        }
        if (r.pythonNote() != null) {
            System.out.println(r.pythonNote());
        }
    }
}
