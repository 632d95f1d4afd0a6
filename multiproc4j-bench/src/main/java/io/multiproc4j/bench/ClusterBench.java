package io.multiproc4j.bench;

import io.multiproc4j.Pool;
import io.multiproc4j.SerializableFunction;
import io.multiproc4j.cluster.ClusterPool;
import io.multiproc4j.cluster.LocalCluster;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * The cluster engine measured in one run, side by side with {@code Pool.processes(2)}, the
 * sequential loop and Python's {@code multiprocessing.Pool(2)} (when {@code python3} is on the PATH):
 * <ol>
 *   <li>member start-up: the first member alone, and one more joining, ms</li>
 *   <li>client start-up: {@code ClusterPool.connect} to a running cluster until it uses every member, ms</li>
 *   <li>per-chunk overhead: a one-element chunk's round trip, {@code applyAsync(x -> x + 1).get()}, µs</li>
 *   <li>tiny tasks (members as {@code ClusterPool.local(n)} starts them, sharing the processors): {@code map(x -> x + 1)} over the inputs with the default chunk size, ms, and with
 *       chunk size 1, chunks/s, on {@code ClusterPool.local(1..3)}</li>
 *   <li>heavy tasks: sequential time / {@code map} time ({@link Workloads#HEAVIER}), speed-up</li>
 *   <li>recovery: a member SIGKILLed mid-map, from the kill until its chunks ran again elsewhere, ms</li>
 * </ol>
 * Goals on a 2-core machine: per-chunk overhead ≤ 1 ms, heavy speed-up of {@code local(2)} ≥ 1.8×,
 * recovery ≤ 3 s. Run (after {@code ./mvnw -B -q -pl multiproc4j-bench -am package -DskipTests}):
 * {@code java --add-modules java.se --add-opens java.base/java.lang=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow
 * -cp "multiproc4j-bench/target/multiproc4j-bench-0.1.0-SNAPSHOT.jar:multiproc4j-bench/target/lib/*"
 * io.multiproc4j.bench.ClusterBench [full|quick]}.
 */
public final class ClusterBench {
    private ClusterBench() {}

    private record Mode(String name, int reps, int vector, int chunks, int heavy, int roundTrips) {}

    private static final Mode FULL = new Mode("full", 5, 1_000_000, 20_000, 300_000, 2_000);
    private static final Mode QUICK = new Mode("quick", 3, 300_000, 5_000, 100_000, 500);

    /**
     * @param args {@code full} (default) or {@code quick}
     * @throws Exception when a run fails
     */
    public static void main(String[] args) throws Exception {
        Mode mode = args.length > 0 && args[0].equals("quick") ? QUICK : FULL;
        int cores = Runtime.getRuntime().availableProcessors();
        System.out.printf("ClusterBench %s: nproc %d, JDK %s, medians of %d runs after a warm-up%n", mode.name(), cores,
                Runtime.version(), mode.reps());
        List<String> rows = new ArrayList<>();
        rows.add("| figure | value | baseline (same run) | ratio | goal |");
        rows.add("| --- | ---: | --- | ---: | --- |");

        List<Integer> vector = Workloads.inputs(mode.vector());
        List<Integer> chunkInputs = Workloads.inputs(mode.chunks());
        List<Integer> heavy = Workloads.inputs(mode.heavy());
        double sequentialHeavy = median(mode, () -> {
            int sink = 0;
            for (int x : heavy) {
                sink ^= Workloads.heavier(x);
            }
            if (sink == 42) {
                System.out.print("");
            }
        });
        double processMap;
        double processHeavy;
        try (Pool processes = Pool.processes(2)) {
            processMap = median(mode, () -> processes.map(Workloads.LIGHT, vector));
            processHeavy = median(mode, () -> processes.map(Workloads.HEAVIER, heavy));
        }
        Map<String, String> py = python();
        String pyMap = py.containsKey("map1m_ms") ? "Python Pool(2).map " + fmt(Double.parseDouble(py.get("map1m_ms")))
                + " ms (1,000,000 elements)" : py.getOrDefault("note", "Python not measured");
        String pyHeavy = py.containsKey("heavy_speedup") ? "Python Pool(2) " + fmt(Double.parseDouble(py.get("heavy_speedup"))) + "×" : "";
        String pyTrip = py.containsKey("roundtrip_us") ? "Python apply_async " + fmt(Double.parseDouble(py.get("roundtrip_us"))) + " µs" : "";

        for (int members = 1; members <= 3; members++) {
            long t0 = System.nanoTime();
            // what ClusterPool.local(members) starts: the members share the processors
            try (LocalCluster cluster = LocalCluster.start(1, Math.max(1, cores / members))) {
                double firstMember = (System.nanoTime() - t0) / 1e6;
                double joins = 0;
                for (int i = 1; i < members; i++) {
                    long t = System.nanoTime();
                    cluster.addMember();
                    joins += (System.nanoTime() - t) / 1e6;
                }
                int n = members;
                List<Double> connects = new ArrayList<>();
                for (int i = 0; i < Math.max(2, mode.reps()); i++) {
                    long t = System.nanoTime();
                    try (ClusterPool pool = ClusterPool.connect(cluster.config())) {
                        pool.awaitMembers(n, java.time.Duration.ofSeconds(60));
                        connects.add((System.nanoTime() - t) / 1e6);
                    }
                }
                try (ClusterPool pool = ClusterPool.connect(cluster.config().retries(2))) {
                    pool.awaitMembers(n, java.time.Duration.ofSeconds(60));
                    String label = "local(" + n + ")";
                    if (n == 1) {
                        add(rows, row("member start-up, first member alone (ms)", firstMember, "", Double.NaN, ""));
                        add(rows, row("lite member start-up, joining local(1) (ms), the alternative to the client",
                                liteMemberJoin(cluster), "", Double.NaN, ""));
                    } else {
                        add(rows, row("member start-up, joining member, " + label + " (ms, mean)", joins / (n - 1), "", Double.NaN, ""));
                    }
                    add(rows, row("client start-up, connect until it uses every member, " + label + " (ms)",
                            medianOf(connects), "", Double.NaN, ""));
                    double trip = perChunkMicros(pool, mode.roundTrips(), mode.reps());
                    add(rows, row("per-chunk overhead: 1-element chunk round trip, " + label + " (µs)", trip, pyTrip,
                            Double.NaN, "≤ 1000 µs"));
                    double map = median(mode, () -> pool.map(Workloads.LIGHT, vector));
                    add(rows, row(String.format(Locale.ROOT, "map(x -> x + 1), %,d elements, default chunks, %s (ms)",
                            mode.vector(), label), map, "Pool.processes(2) " + fmt(processMap) + " ms; " + pyMap,
                            processMap / map, ""));
                    double chunked = median(mode, () -> pool.map(Workloads.LIGHT, chunkInputs, 1));
                    add(rows, row(String.format(Locale.ROOT, "map(x -> x + 1), chunk size 1, %s (chunks/s)", label),
                            mode.chunks() / (chunked / 1000), "", Double.NaN, ""));
                    double heavyMs = median(mode, () -> pool.map(Workloads.HEAVIER, heavy));
                    add(rows, row(String.format(Locale.ROOT, "heavy map speed-up over the sequential loop (%,d × %d rounds), %s",
                                    mode.heavy(), Workloads.HEAVIER_ROUNDS, label), sequentialHeavy / heavyMs,
                            "Pool.processes(2) " + fmt(sequentialHeavy / processHeavy) + "×; " + pyHeavy,
                            Double.NaN, n == 2 ? "≥ 1.8×" : ""));
                    if (n >= 2) {
                        add(rows, row("recovery after SIGKILL of a member mid-map, " + label + " (ms)",
                                recovery(cluster, pool), "", Double.NaN, "≤ 3000 ms"));
                    }
                }
            }
        }
        System.out.println();
        rows.forEach(System.out::println);
    }

    /** Keeps a row for the final table and prints it now, so a run cut short still says what it measured. */
    private static void add(List<String> rows, String row) {
        rows.add(row);
        System.out.println(row);
        System.out.flush();
    }

    /** A lite member (no data, but a member: it listens, joins, heartbeats) joining the cluster, ms. */
    private static double liteMemberJoin(LocalCluster cluster) throws IOException {
        var config = cluster.config();
        var keys = new io.multiproc4j.cluster.internal.Keys(config.authKey());
        int port;
        try (var socket = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            port = socket.getLocalPort();
        }
        var member = io.multiproc4j.cluster.internal.HazelcastSettings.member(keys.clusterName(config.clusterName()),
                "127.0.0.1", port, config.members(), 1, "not-a-worker");
        member.setLiteMember(true);
        long t = System.nanoTime();
        var lite = com.hazelcast.core.Hazelcast.newHazelcastInstance(member);
        double ms = (System.nanoTime() - t) / 1e6;
        lite.getLifecycleService().terminate();
        return ms;
    }

    /** Sequential one-element calls: what one chunk costs beyond its work. */
    private static double perChunkMicros(ClusterPool pool, int trips, int reps) throws Exception {
        SerializableFunction<Integer, Integer> fn = Workloads.LIGHT;
        for (int i = 0; i < trips; i++) {
            pool.applyAsync(fn, i).get();
        }
        double[] samples = new double[reps];
        for (int r = 0; r < reps; r++) {
            long t = System.nanoTime();
            for (int i = 0; i < trips; i++) {
                pool.applyAsync(fn, i).get();
            }
            samples[r] = (System.nanoTime() - t) / 1e3 / trips;
        }
        return Workloads.median(samples);
    }

    /** Kills the member holding the most chunks of a running map; ms from the kill until they ran again. */
    private static double recovery(LocalCluster cluster, ClusterPool pool) throws Exception {
        int before = pool.memberLosses().size();
        List<Integer> inputs = Workloads.inputs(4_000);
        CompletableFuture<List<Integer>> call = pool.mapAsync(Workloads.HEAVIER, inputs, 4);
        while (pool.members().stream().mapToLong(ClusterPool.MemberState::done).sum() < 100 && !call.isDone()) {
            java.util.concurrent.locks.LockSupport.parkNanos(1_000_000);
        }
        String victim = pool.members().getLast().address();
        LocalCluster.LocalMember member = cluster.members().stream().filter(m -> m.address().equals(victim)).findFirst().orElseThrow();
        long killedAt = System.nanoTime();
        member.process().destroyForcibly();
        List<Integer> out = call.get(5, TimeUnit.MINUTES);
        if (out.size() != inputs.size()) {
            throw new IllegalStateException("the map lost results: " + out.size());
        }
        if (pool.memberLosses().size() == before) {
            return Double.NaN; // the map ended before the kill
        }
        var loss = pool.memberLosses().getLast();
        cluster.addMember(); // the next run has its members again
        return (loss.doneAtNanos() - killedAt) / 1e6;
    }

    private static String row(String what, double value, String baseline, double ratio, String goal) {
        return "| " + what + " | " + fmt(value) + " | " + baseline + " | " + (Double.isNaN(ratio) ? "" : fmt(ratio) + "×")
                + " | " + goal + " |";
    }

    private static String fmt(double v) {
        return Double.isNaN(v) ? "n/a" : v >= 100 ? String.format(Locale.ROOT, "%,.0f", v) : String.format(Locale.ROOT, "%.2f", v);
    }

    private interface Run {
        void run() throws Exception;
    }

    private static double median(Mode mode, Run run) throws Exception {
        run.run();
        double[] samples = new double[mode.reps()];
        for (int i = 0; i < samples.length; i++) {
            long t = System.nanoTime();
            run.run();
            samples[i] = (System.nanoTime() - t) / 1e6;
        }
        return Workloads.median(samples);
    }

    private static double medianOf(List<Double> values) {
        return Workloads.median(values.stream().mapToDouble(Double::doubleValue).toArray());
    }

    /** Python's figures from side_by_side.py quick, or a note saying why there are none. */
    private static Map<String, String> python() throws IOException, InterruptedException {
        Map<String, String> values = new HashMap<>();
        String python = null;
        for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
            if (Files.isExecutable(Path.of(dir, "python3"))) {
                python = Path.of(dir, "python3").toString();
                break;
            }
        }
        if (python == null) {
            values.put("note", "python3 not on the PATH");
            return values;
        }
        Path script = Files.createTempFile("multiproc4j-cluster-bench", ".py");
        try (InputStream in = SideBySide.class.getResourceAsStream("side_by_side.py")) {
            if (in == null) {
                values.put("note", "side_by_side.py missing from the bench jar");
                return values;
            }
            Files.write(script, in.readAllBytes());
            Process p = new ProcessBuilder(python, script.toString(), "quick").redirectErrorStream(true).start();
            p.getOutputStream().close();
            String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(10, TimeUnit.MINUTES) || p.exitValue() != 0) {
                p.destroyForcibly();
                values.put("note", "the Python side failed");
                return values;
            }
            for (String line : output.split("\n")) {
                String[] kv = line.strip().split(" ", 2);
                if (kv.length == 2) {
                    values.put(kv[0], kv[1].strip());
                }
            }
            return values;
        } finally {
            Files.deleteIfExists(script);
        }
    }
}
