package io.multiproc4j.bench;

import io.multiproc4j.Pool;
import io.multiproc4j.ipc.Pipe;
import io.multiproc4j.ipc.ProcessQueue;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Message passing between processes, side by side with Python's {@code multiprocessing} in one run:
 *
 * <ul>
 *   <li><b>small</b>: one producer process → one consumer process, 200,000 small messages (the
 *       integers 0..199,999), through a {@code ProcessQueue} and a one-way {@code Pipe}
 *       ({@code send}/{@code receive}, encoded objects);</li>
 *   <li><b>1 MB</b>: the same with 2,000 messages of 1,000,000 bytes ({@code byte[]} through the
 *       queue, {@code sendBytes}/{@code receiveBytes} through the pipe);</li>
 *   <li><b>P → C</b>: P producer processes → C consumer processes on one queue, 200,000 small
 *       messages in all (1→1, 2→2, 4→4), everything in worker processes;</li>
 *   <li><b>python</b>: the same with {@code multiprocessing.Queue} and {@code Pipe}, run by
 *       {@code python3} when it is on the PATH (fork start method, the default on Linux).</li>
 * </ul>
 *
 * <p>Java 1→1: the producer is a task on a warm {@code Pool.processes}, the consumer is this JVM;
 * the time runs from submitting the producer task until the last message is received (dispatch
 * included, pool start-up not). Median of 5 runs after 2 warm-ups. Python: from
 * {@code Process.start()} until the last message is received (fork included), median of 3 runs.
 *
 * <p>Run: {@code ./mvnw -B -q -pl multiproc4j-bench -am package -DskipTests && java
 * --enable-native-access=ALL-UNNAMED -cp 'multiproc4j-bench/target/classes:multiproc4j-bench/target/lib/*'
 * io.multiproc4j.bench.IpcBench}
 */
public final class IpcBench {
    private static final int SMALL = 200_000;
    private static final int LARGE = 2_000;
    private static final int LARGE_SIZE = 1_000_000;
    private static final int WARMUP = 2;
    private static final int RUNS = 5;

    private IpcBench() {}

    /**
     * @param args {@code --java-only} to skip the Python rows
     * @throws Exception on failure
     */
    public static void main(String[] args) throws Exception {
        List<String> rows = new ArrayList<>();
        try (Pool pool = Pool.processes(8)) {
            pool.map(i -> i, List.of(0, 1, 2, 3, 4, 5, 6, 7), 1);

            double ms = median(() -> {
                try (ProcessQueue<Integer> queue = ProcessQueue.create(10_000)) {
                    long t0 = System.nanoTime();
                    CompletableFuture<Integer> producer = pool.applyAsync(q -> call(() -> {
                        for (int i = 0; i < SMALL; i++) {
                            q.put(i);
                        }
                        return SMALL;
                    }), queue);
                    for (int i = 0; i < SMALL; i++) {
                        check(queue.take() == i);
                    }
                    double elapsed = (System.nanoTime() - t0) / 1e6;
                    producer.get(60, TimeUnit.SECONDS);
                    return elapsed;
                }
            });
            rows.add(rate("java ProcessQueue put/take, 1 → 1 process", SMALL, ms));

            ms = median(() -> {
                try (Pipe<Integer> pipe = Pipe.oneWay()) {
                    long t0 = System.nanoTime();
                    CompletableFuture<Integer> producer = pool.applyAsync(end -> {
                        for (int i = 0; i < SMALL; i++) {
                            end.send(i);
                        }
                        return SMALL;
                    }, pipe.right());
                    for (int i = 0; i < SMALL; i++) {
                        check(pipe.left().receive() == i);
                    }
                    double elapsed = (System.nanoTime() - t0) / 1e6;
                    producer.get(60, TimeUnit.SECONDS);
                    return elapsed;
                }
            });
            rows.add(rate("java Pipe.oneWay send/receive, 1 → 1 process", SMALL, ms));

            ms = median(() -> {
                try (ProcessQueue<byte[]> queue = ProcessQueue.create(64)) {
                    long t0 = System.nanoTime();
                    CompletableFuture<Integer> producer = pool.applyAsync(q -> call(() -> {
                        byte[] payload = new byte[LARGE_SIZE];
                        for (int i = 0; i < LARGE; i++) {
                            payload[0] = (byte) i;
                            q.put(payload);
                        }
                        return LARGE;
                    }), queue);
                    for (int i = 0; i < LARGE; i++) {
                        byte[] got = queue.take();
                        check(got.length == LARGE_SIZE && got[0] == (byte) i);
                    }
                    double elapsed = (System.nanoTime() - t0) / 1e6;
                    producer.get(60, TimeUnit.SECONDS);
                    return elapsed;
                }
            });
            rows.add(bandwidth("java ProcessQueue put/take byte[1 MB], 1 → 1 process", ms));

            ms = median(() -> {
                try (Pipe<byte[]> pipe = Pipe.oneWay()) {
                    long t0 = System.nanoTime();
                    CompletableFuture<Integer> producer = pool.applyAsync(end -> {
                        byte[] payload = new byte[LARGE_SIZE];
                        for (int i = 0; i < LARGE; i++) {
                            payload[0] = (byte) i;
                            end.sendBytes(payload);
                        }
                        return LARGE;
                    }, pipe.right());
                    for (int i = 0; i < LARGE; i++) {
                        byte[] got = pipe.left().receiveBytes();
                        check(got.length == LARGE_SIZE && got[0] == (byte) i);
                    }
                    double elapsed = (System.nanoTime() - t0) / 1e6;
                    producer.get(60, TimeUnit.SECONDS);
                    return elapsed;
                }
            });
            rows.add(bandwidth("java Pipe.oneWay sendBytes/receiveBytes 1 MB, 1 → 1 process", ms));

            for (int p : new int[] {1, 2, 4}) {
                int each = SMALL / p;
                ms = median(() -> {
                    try (ProcessQueue<Integer> queue = ProcessQueue.create(10_000)) {
                        List<Integer> roles = new ArrayList<>();
                        for (int i = 0; i < 2 * p; i++) {
                            roles.add(i < p ? i : -1);
                        }
                        long t0 = System.nanoTime();
                        pool.map(role -> call(() -> {
                            if (role >= 0) {
                                for (int i = 0; i < each; i++) {
                                    queue.put(i);
                                }
                            } else {
                                for (int i = 0; i < each; i++) {
                                    queue.take();
                                }
                            }
                            return role;
                        }), roles, 1);
                        return (System.nanoTime() - t0) / 1e6;
                    }
                });
                rows.add(rate("java ProcessQueue, " + p + " producers → " + p + " consumers (processes)", SMALL, ms));
            }
        }
        if (!List.of(args).contains("--java-only")) {
            rows.addAll(python());
        }
        System.out.println("| what | messages | median ms | rate |");
        System.out.println("| --- | ---: | ---: | ---: |");
        rows.forEach(System.out::println);
    }

    private static void check(boolean ok) {
        if (!ok) {
            throw new IllegalStateException("wrong message received");
        }
    }

    private static <T> T call(java.util.concurrent.Callable<T> body) {
        try {
            return body.call();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static String rate(String what, int messages, double ms) {
        return String.format(Locale.ROOT, "| %s | %,d | %.1f | %,.0f msgs/s |", what, messages, ms, messages / (ms / 1e3));
    }

    private static String bandwidth(String what, double ms) {
        return String.format(Locale.ROOT, "| %s | %,d | %.1f | %.2f GB/s |", what, LARGE, ms,
                (double) LARGE * LARGE_SIZE / (ms / 1e3) / 1e9);
    }

    private interface Measured {
        double run() throws Exception;
    }

    private static double median(Measured measured) throws Exception {
        for (int i = 0; i < WARMUP; i++) {
            measured.run();
        }
        double[] runs = new double[RUNS];
        for (int i = 0; i < RUNS; i++) {
            runs[i] = measured.run();
        }
        Arrays.sort(runs);
        return runs[RUNS / 2];
    }

    private static final String PYTHON = """
            import multiprocessing as mp, statistics, sys, time
            N, M, SIZE = %d, %d, %d
            def qprod(q, n, big):
                b = bytes(SIZE) if big else None
                for i in range(n):
                    q.put(b if big else i)
            def qcons(q, n):
                for _ in range(n):
                    q.get()
            def pprod(c, n, big):
                if big:
                    b = bytes(SIZE)
                    for _ in range(n):
                        c.send_bytes(b)
                else:
                    for i in range(n):
                        c.send(i)
            def queue_run(n, big):
                q = mp.Queue(10000)
                p = mp.Process(target=qprod, args=(q, n, big))
                t = time.perf_counter()
                p.start()
                for _ in range(n):
                    q.get()
                elapsed = time.perf_counter() - t
                p.join()
                return elapsed
            def pipe_run(n, big):
                r, w = mp.Pipe(False)
                p = mp.Process(target=pprod, args=(w, n, big))
                t = time.perf_counter()
                p.start()
                for _ in range(n):
                    r.recv_bytes() if big else r.recv()
                elapsed = time.perf_counter() - t
                p.join()
                return elapsed
            def many_run(k):
                q = mp.Queue(10000)
                procs = [mp.Process(target=qprod, args=(q, N // k, False)) for _ in range(k)]
                procs += [mp.Process(target=qcons, args=(q, N // k)) for _ in range(k)]
                t = time.perf_counter()
                for p in procs: p.start()
                for p in procs: p.join()
                return time.perf_counter() - t
            def med(f):
                return statistics.median(f() for _ in range(3)) * 1000
            if __name__ == '__main__':
                print('VERSION ' + sys.version.split()[0])
                print('QUEUE_SMALL %%.1f' %% med(lambda: queue_run(N, False)), flush=True)
                print('PIPE_SMALL %%.1f' %% med(lambda: pipe_run(N, False)), flush=True)
                print('QUEUE_LARGE %%.1f' %% med(lambda: queue_run(M, True)), flush=True)
                print('PIPE_LARGE %%.1f' %% med(lambda: pipe_run(M, True)), flush=True)
                for k in (1, 2, 4):
                    print('MANY %%d %%.1f' %% (k, med(lambda: many_run(k))), flush=True)
            """;

    private static List<String> python() throws IOException, InterruptedException {
        Path script = Files.createTempFile("mp4j-ipc-bench-", ".py");
        try {
            Files.writeString(script, String.format(Locale.ROOT, PYTHON, SMALL, LARGE, LARGE_SIZE), StandardCharsets.UTF_8);
            Process process;
            try {
                process = new ProcessBuilder("python3", script.toString()).redirectErrorStream(true).start();
            } catch (IOException e) {
                return List.of("| python3 not found: Python rows skipped | | | |");
            }
            String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!process.waitFor(10, TimeUnit.MINUTES) || process.exitValue() != 0) {
                process.destroyForcibly();
                return List.of("| python3 failed: " + out.replace('\n', ' ') + " | | | |");
            }
            String version = out.lines().filter(l -> l.startsWith("VERSION")).findFirst().orElse("VERSION ?")
                    .substring(8);
            String py = "python " + version + " ";
            List<String> rows = new ArrayList<>();
            for (String line : out.lines().toList()) {
                String[] f = line.split(" ");
                switch (f[0]) {
                    case "QUEUE_SMALL" -> rows.add(rate(py + "Queue put/get, 1 → 1 process", SMALL, Double.parseDouble(f[1])));
                    case "PIPE_SMALL" -> rows.add(rate(py + "Pipe(duplex=False) send/recv, 1 → 1 process", SMALL,
                            Double.parseDouble(f[1])));
                    case "QUEUE_LARGE" -> rows.add(bandwidth(py + "Queue put/get bytes(1 MB), 1 → 1 process",
                            Double.parseDouble(f[1])));
                    case "PIPE_LARGE" -> rows.add(bandwidth(py + "Pipe(duplex=False) send_bytes/recv_bytes 1 MB, 1 → 1 process",
                            Double.parseDouble(f[1])));
                    case "MANY" -> rows.add(rate(py + "Queue, " + f[1] + " producers → " + f[1] + " consumers", SMALL,
                            Double.parseDouble(f[2])));
                    default -> { }
                }
            }
            return rows;
        } finally {
            Files.deleteIfExists(script);
        }
    }
}
