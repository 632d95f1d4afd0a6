package io.multiproc4j.bench;

import io.multiproc4j.Pool;
import io.multiproc4j.shared.SharedDoubleArray;
import io.multiproc4j.shared.SharedLong;
import io.multiproc4j.sync.ProcessBarrier;
import io.multiproc4j.sync.ProcessLock;
import io.multiproc4j.sync.ProcessSemaphore;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * The talk's shared counter, side by side with Python's {@code multiprocessing} in one run:
 * 2 processes × 100,000 increments of one shared counter, and 2 processes each filling half of a
 * shared array of 1,000,000 doubles.
 *
 * <ul>
 *   <li><b>atomic</b>: {@code SharedLong.incrementAndGet} ({@code LOCK XADD} on the mapped memory);</li>
 *   <li><b>locked</b>: {@code ProcessLock.lock(); plain.set(plain.get() + 1); unlock()};</li>
 *   <li><b>unsynchronized</b>: plain read then write (the race: updates get lost; shown for the count);</li>
 *   <li><b>python Value + get_lock()</b> and <b>python Array(lock=False)</b>: the same work with
 *       {@code multiprocessing}, run by {@code python3} when it is on the PATH.</li>
 * </ul>
 *
 * <p>Java figures are the wall time of one {@code pool.map} over 2 tasks on a warm pool of 2
 * worker JVMs (dispatch and result included, JVM start-up not: it is reported apart); the median
 * of 7 runs after 3 warm-up runs; the loop time measured inside the slower worker is given beside
 * it (the difference is dispatch: sending two tasks and receiving two results). Both tasks meet
 * at a {@code ProcessBarrier} before their loops, so the loops really contend. Python figures are start-to-join of two {@code Process}es
 * (fork start-up included, a few ms), median of 7 runs.
 *
 * <p>Run: {@code ./mvnw -B -q -pl multiproc4j-bench -am package -DskipTests && java
 * --enable-native-access=ALL-UNNAMED -cp 'multiproc4j-bench/target/classes:multiproc4j-bench/target/lib/*'
 * io.multiproc4j.bench.SharedCounterBench}
 */
public final class SharedCounterBench {
    private static final int INCREMENTS = 100_000;
    private static final int ARRAY = 1_000_000;
    private static final int WARMUP = 3;
    private static final int RUNS = 7;

    private SharedCounterBench() {}

    /**
     * @param args ignored
     * @throws Exception on failure
     */
    public static void main(String[] args) throws Exception {
        List<String> rows = new ArrayList<>();
        long startNanos = System.nanoTime();
        try (Pool pool = Pool.processes(2); ProcessBarrier gate = ProcessBarrier.create(2)) {
            pool.map(i -> i, List.of(0, 1), 1);
            long startMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos);
            rows.add(row("pool of 2 worker JVMs: start until first results", startMs, ""));

            try (SharedLong counter = SharedLong.create(0)) {
                double[] ms = median(() -> {
                    counter.set(0);
                    return time(() -> pool.map(i -> call(() -> {
                        gate.await(30, TimeUnit.SECONDS);
                        long t0 = System.nanoTime();
                        for (int k = 0; k < INCREMENTS; k++) {
                            counter.incrementAndGet();
                        }
                        return System.nanoTime() - t0;
                    }), List.of(0, 1), 1));
                });
                rows.add(row("java atomic SharedLong.incrementAndGet", ms, "total " + counter.get()));
            }
            try (SharedLong plain = SharedLong.createUnsynchronized(0); ProcessLock lock = ProcessLock.create()) {
                double[] ms = median(() -> {
                    plain.set(0);
                    return time(() -> pool.map(i -> call(() -> {
                        gate.await(30, TimeUnit.SECONDS);
                        long t0 = System.nanoTime();
                        for (int k = 0; k < INCREMENTS; k++) {
                            lock.lock();
                            try {
                                plain.set(plain.get() + 1);
                            } finally {
                                lock.unlock();
                            }
                        }
                        return System.nanoTime() - t0;
                    }), List.of(0, 1), 1));
                });
                rows.add(row("java ProcessLock + plain read/write", ms, "total " + plain.get()));
            }
            // A bounded semaphore records its holders (so a dead one's permits come back): its
            // acquire/release take a robust lock of their own, the cost measured here.
            try (SharedLong plain = SharedLong.createUnsynchronized(0);
                 ProcessSemaphore permit = ProcessSemaphore.createBounded(1)) {
                double[] ms = median(() -> {
                    plain.set(0);
                    return time(() -> pool.map(i -> call(() -> {
                        gate.await(30, TimeUnit.SECONDS);
                        long t0 = System.nanoTime();
                        for (int k = 0; k < INCREMENTS; k++) {
                            permit.acquire();
                            try {
                                plain.set(plain.get() + 1);
                            } finally {
                                permit.release();
                            }
                        }
                        return System.nanoTime() - t0;
                    }), List.of(0, 1), 1));
                });
                rows.add(row("java bounded ProcessSemaphore(1) + plain read/write", ms, "total " + plain.get()));
            }
            try (SharedLong plain = SharedLong.createUnsynchronized(0)) {
                double[] ms = median(() -> {
                    plain.set(0);
                    return time(() -> pool.map(i -> call(() -> {
                        gate.await(30, TimeUnit.SECONDS);
                        long t0 = System.nanoTime();
                        for (int k = 0; k < INCREMENTS; k++) {
                            plain.incrementAndGet();
                        }
                        return System.nanoTime() - t0;
                    }), List.of(0, 1), 1));
                });
                long lost = 2L * INCREMENTS - plain.get();
                rows.add(row("java unsynchronized (racy)", ms, "total " + plain.get() + ", last run lost " + lost));
            }
            try (SharedDoubleArray data = SharedDoubleArray.createUnsynchronized(ARRAY)) {
                double[] ms = median(() -> time(() -> pool.map(half -> call(() -> {
                    gate.await(30, TimeUnit.SECONDS);
                    long t0 = System.nanoTime();
                    int from = half * ARRAY / 2;
                    for (int i = from; i < from + ARRAY / 2; i++) {
                        data.set(i, i * 0.5);
                    }
                    return System.nanoTime() - t0;
                }), List.of(0, 1), 1)));
                rows.add(row("java disjoint halves, SharedDoubleArray 1M", ms, ""));
            }
            rows.add(handoff(pool));
        }
        rows.addAll(python());
        System.out.println("| what (2 processes x " + INCREMENTS + " increments) | median ms | in-worker loop ms | note |");
        System.out.println("| --- | ---: | ---: | --- |");
        rows.forEach(System.out::println);
    }

    private static final int HANDOFF_ROUNDS = 2_000;

    /**
     * Lock hand-off latency: this process holds a {@code ProcessLock} while a worker blocks in
     * {@code lock()}; the time from this process's {@code unlock()} to the worker holding the lock
     * ({@code System.nanoTime} is {@code CLOCK_MONOTONIC}, comparable across processes).
     */
    private static String handoff(Pool pool) throws Exception {
        try (ProcessLock lock = ProcessLock.create(); SharedLong round = SharedLong.create(-1);
             SharedLong stamp = SharedLong.create(0); SharedLong done = SharedLong.create(0);
             io.multiproc4j.shared.SharedLongArray latencies = io.multiproc4j.shared.SharedLongArray.create(HANDOFF_ROUNDS)) {
            var worker = pool.applyAsync((Integer n) -> {
                for (int r = 0; r < n; r++) {
                    while (round.get() != r) {
                        Thread.onSpinWait();
                    }
                    lock.lock();
                    latencies.set(r, System.nanoTime() - stamp.get());
                    lock.unlock();
                    done.set(r + 1);
                }
                return null;
            }, HANDOFF_ROUNDS);
            for (int r = 0; r < HANDOFF_ROUNDS; r++) {
                lock.lock();
                round.set(r);
                while (lock.info().waitingCount() == 0) {
                    Thread.onSpinWait();
                }
                long parkedBy = System.nanoTime() + 200_000; // let the waiter finish spinning and sleep
                while (System.nanoTime() < parkedBy) {
                    Thread.onSpinWait();
                }
                stamp.set(System.nanoTime());
                lock.unlock();
                while (done.get() != r + 1) {
                    Thread.onSpinWait();
                }
            }
            worker.get(1, TimeUnit.MINUTES);
            long[] values = latencies.toArray();
            Arrays.sort(values);
            return String.format(Locale.ROOT, "| %s | %.1f µs | | p99 %.1f µs over %d hand-offs |",
                    "ProcessLock hand-off to a waiter blocked in another process (median)",
                    values[values.length / 2] / 1e3, values[values.length * 99 / 100] / 1e3, HANDOFF_ROUNDS);
        }
    }

    private static <T> T call(java.util.concurrent.Callable<T> body) {
        try {
            return body.call();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static String row(String what, double ms, String note) {
        return String.format(Locale.ROOT, "| %s | %.2f | | %s |", what, ms, note);
    }

    private static String row(String what, double[] ms, String note) {
        return String.format(Locale.ROOT, "| %s | %.2f | %.2f | %s |", what, ms[0], ms[1], note);
    }

    /** @return {wall ms of the map, ms of the slower task's loop as timed inside its worker} */
    private static double[] time(java.util.function.Supplier<List<Long>> work) {
        long start = System.nanoTime();
        List<Long> loopNanos = work.get();
        double wall = (System.nanoTime() - start) / 1e6;
        return new double[] {wall, loopNanos.stream().mapToLong(Long::longValue).max().orElse(0) / 1e6};
    }

    private interface Measured {
        double[] run();
    }

    /** @return {median wall ms, median in-worker loop ms} */
    private static double[] median(Measured measured) {
        for (int i = 0; i < WARMUP; i++) {
            measured.run();
        }
        double[] walls = new double[RUNS];
        double[] loops = new double[RUNS];
        for (int i = 0; i < RUNS; i++) {
            double[] r = measured.run();
            walls[i] = r[0];
            loops[i] = r[1];
        }
        Arrays.sort(walls);
        Arrays.sort(loops);
        return new double[] {walls[RUNS / 2], loops[RUNS / 2]};
    }

    private static final String PYTHON = """
            import multiprocessing as mp, statistics, sys, time
            N = %d
            M = %d
            def inc(v):
                for _ in range(N):
                    with v.get_lock():
                        v.value += 1
            def fill(a, lo, hi):
                for i in range(lo, hi):
                    a[i] = i * 0.5
            def timed(make):
                runs = []
                for _ in range(7):
                    procs = make()
                    t = time.perf_counter()
                    for p in procs: p.start()
                    for p in procs: p.join()
                    runs.append((time.perf_counter() - t) * 1000)
                return statistics.median(runs)
            if __name__ == '__main__':
                v = mp.Value('q', 0)
                ms = timed(lambda: [mp.Process(target=inc, args=(v,)) for _ in range(2)])
                print('VALUE %%.2f %%d' %% (ms, v.value // 7))
                a = mp.Array('d', M, lock=False)
                ms = timed(lambda: [mp.Process(target=fill, args=(a, h * M // 2, (h + 1) * M // 2)) for h in range(2)])
                print('ARRAY %%.2f' %% ms)
                print('VERSION ' + sys.version.split()[0])
            """;

    private static List<String> python() throws IOException, InterruptedException {
        Path script = Files.createTempFile("mp4j-bench-", ".py");
        try {
            Files.writeString(script, String.format(Locale.ROOT, PYTHON, INCREMENTS, ARRAY), StandardCharsets.UTF_8);
            Process process;
            try {
                process = new ProcessBuilder("python3", script.toString()).redirectErrorStream(true).start();
            } catch (IOException e) {
                return List.of(row("python3 not found: Python rows skipped", 0, ""));
            }
            String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!process.waitFor(10, TimeUnit.MINUTES) || process.exitValue() != 0) {
                process.destroyForcibly();
                return List.of(row("python3 failed: " + out.replace('\n', ' '), 0, ""));
            }
            List<String> rows = new ArrayList<>();
            String version = out.lines().filter(l -> l.startsWith("VERSION")).findFirst().orElse("VERSION ?")
                    .substring(8);
            for (String line : out.lines().toList()) {
                String[] f = line.split(" ");
                if (f[0].equals("VALUE")) {
                    rows.add(row("python " + version + " Value + get_lock()", Double.parseDouble(f[1]),
                            "total " + f[2]));
                } else if (f[0].equals("ARRAY")) {
                    rows.add(row("python " + version + " disjoint halves, Array('d', 1M, lock=False)",
                            Double.parseDouble(f[1]), ""));
                }
            }
            return rows;
        } finally {
            Files.deleteIfExists(script);
        }
    }

}
