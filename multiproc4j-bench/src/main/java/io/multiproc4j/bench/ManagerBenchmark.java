package io.multiproc4j.bench;

import io.multiproc4j.Pool;
import io.multiproc4j.manager.Manager;
import io.multiproc4j.manager.ManagerBuilder;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.TimeUnit;

/**
 * Manager proxies against Python's {@code multiprocessing.Manager()}, side by side in one run.
 *
 * <p>What it measures, per operation, median of {@value #ROUNDS} rounds of {@code n} operations
 * after a warm-up:
 * <ul>
 *   <li>map {@code put} and {@code get} from a worker process on a manager in a third process
 *       (Python: {@code Manager().dict()} from a {@code Process});</li>
 *   <li>queue round trip: the parent puts on queue "in", a worker takes and puts on "out", the
 *       parent takes (Python: two {@code Manager().Queue()}s).</li>
 * </ul>
 * Java runs over the default private Unix-domain socket and over loopback TCP.
 *
 * <p>Run: {@code ./mvnw -B -q -pl multiproc4j-bench -am package -DskipTests && java -cp
 * "multiproc4j-bench/target/classes:multiproc4j-bench/target/lib/*" io.multiproc4j.bench.ManagerBenchmark [n]}
 */
public final class ManagerBenchmark {
    private static final int ROUNDS = 5;

    private ManagerBenchmark() {}

    /**
     * @param args optional: operations per round (default 20000)
     * @throws Exception when a run fails
     */
    public static void main(String[] args) throws Exception {
        int n = args.length > 0 ? Integer.parseInt(args[0]) : 20_000;
        System.out.printf(Locale.ROOT, "%-34s %12s %12s %16s%n", "system", "put µs/op", "get µs/op", "queue RTT µs");
        try (Pool pool = Pool.processes(1)) {
            for (boolean tcp : new boolean[] {false, true}) {
                ManagerBuilder builder = Manager.builder();
                if (tcp) {
                    builder.loopbackTcp();
                }
                try (Manager manager = builder.start()) {
                    double[] r = java(manager, pool, n);
                    System.out.printf(Locale.ROOT, "%-34s %12.1f %12.1f %16.1f%n",
                            "multiproc4j Manager (" + (tcp ? "loopback TCP" : "Unix socket") + ")", r[0], r[1], r[2]);
                }
            }
        }
        python(n);
    }

    private static double[] java(Manager manager, Pool pool, int n) throws Exception {
        ConcurrentMap<String, Integer> map = manager.map("bench");
        double[] puts = new double[ROUNDS];
        double[] gets = new double[ROUNDS];
        pool.applyAsync(k -> timeMap(map, k), 2_000).get();  // warm-up: JIT and the worker's connection
        for (int r = 0; r < ROUNDS; r++) {
            double[] t = pool.applyAsync(k -> timeMap(map, k), n).get();
            puts[r] = t[0];
            gets[r] = t[1];
        }
        BlockingQueue<Integer> in = manager.queue("in");
        BlockingQueue<Integer> out = manager.queue("out");
        int total = 2_000 + ROUNDS * n;
        CompletableFuture<Integer> echo = pool.applyAsync(k -> {
            try {
                for (int i = 0; i < k; i++) {
                    out.put(in.take());
                }
                return k;
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        }, total);
        roundTrips(in, out, 2_000);
        double[] rtts = new double[ROUNDS];
        for (int r = 0; r < ROUNDS; r++) {
            rtts[r] = roundTrips(in, out, n);
        }
        echo.get(60, TimeUnit.SECONDS);
        return new double[] {median(puts), median(gets), median(rtts)};
    }

    /** Runs in the worker: µs per put and per get. */
    private static double[] timeMap(ConcurrentMap<String, Integer> map, int n) {
        long t0 = System.nanoTime();
        for (int i = 0; i < n; i++) {
            map.put("k" + (i % 100), i);
        }
        long t1 = System.nanoTime();
        for (int i = 0; i < n; i++) {
            map.get("k" + (i % 100));
        }
        long t2 = System.nanoTime();
        return new double[] {(t1 - t0) / 1e3 / n, (t2 - t1) / 1e3 / n};
    }

    private static double roundTrips(BlockingQueue<Integer> in, BlockingQueue<Integer> out, int n)
            throws InterruptedException {
        long t0 = System.nanoTime();
        for (int i = 0; i < n; i++) {
            in.put(i);
            out.take();
        }
        return (System.nanoTime() - t0) / 1e3 / n;
    }

    private static double median(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        return sorted[sorted.length / 2];
    }

    private static final String PYTHON = """
            import multiprocessing as mp, sys, time, statistics
            def time_map(d, n, res):
                t0 = time.perf_counter()
                for i in range(n): d['k%d' % (i % 100)] = i
                t1 = time.perf_counter()
                for i in range(n): d.get('k%d' % (i % 100))
                t2 = time.perf_counter()
                res.put(((t1 - t0) / n * 1e6, (t2 - t1) / n * 1e6))
            def echo(qin, qout, n):
                for _ in range(n): qout.put(qin.get())
            def trips(qin, qout, n):
                t0 = time.perf_counter()
                for i in range(n):
                    qin.put(i); qout.get()
                return (time.perf_counter() - t0) / n * 1e6
            if __name__ == '__main__':
                n, rounds = int(sys.argv[1]), int(sys.argv[2])
                with mp.Manager() as m:
                    d, res = m.dict(), m.Queue()
                    puts, gets = [], []
                    for r in range(rounds + 1):
                        p = mp.Process(target=time_map, args=(d, n if r else 2000, res)); p.start()
                        put, get = res.get(); p.join()
                        if r: puts.append(put); gets.append(get)
                    qin, qout = m.Queue(), m.Queue()
                    p = mp.Process(target=echo, args=(qin, qout, 2000 + rounds * n)); p.start()
                    trips(qin, qout, 2000)
                    rtts = [trips(qin, qout, n) for _ in range(rounds)]
                    p.join()
                print('%.1f %.1f %.1f %s' % (statistics.median(puts), statistics.median(gets), statistics.median(rtts),
                                             sys.version.split()[0]))
            """;

    private static void python(int n) throws IOException, InterruptedException {
        Path script = Files.createTempFile("mp4j-manager-bench", ".py");
        try {
            Files.writeString(script, PYTHON);
            Process p;
            try {
                p = new ProcessBuilder("python3", script.toString(), String.valueOf(n / 4), String.valueOf(ROUNDS))
                        .redirectErrorStream(true).start();
            } catch (IOException e) {
                System.out.println("python3 not found: Python's multiprocessing.Manager() not measured");
                return;
            }
            String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            if (p.waitFor() != 0) {
                System.out.println("python3 failed: " + output);
                return;
            }
            String[] f = output.split(" ");
            System.out.printf(Locale.ROOT, "%-34s %12s %12s %16s%n", "Python " + f[3] + " multiprocessing.Manager()",
                    f[0], f[1], f[2]);
        } finally {
            Files.deleteIfExists(script);
        }
    }
}
