package io.multiproc4j.bench;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import com.sun.net.httpserver.HttpServer;
import io.multiproc4j.WorkerOutput;
import io.multiproc4j.server.PortSharing;
import io.multiproc4j.server.Supervisor;
import io.multiproc4j.server.WorkerModel;
import io.multiproc4j.server.internal.HttpLoad;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * The multi-worker server against its baselines, on the same HTTP load in one run: requests/s and
 * p50/p99 latency of a trivial handler and a CPU-bound one (~2 ms of spinning), served by
 * <ul>
 *   <li>one JVM: the JDK's {@code HttpServer} with a fixed pool of 2 × cores threads (a separate JVM);</li>
 *   <li>{@link Supervisor} with 1 worker and with N = cores workers, for each {@link PortSharing}, each
 *       worker running one request at a time ({@code threadsPerWorker(1)}, as a gunicorn sync worker:
 *       so 1 worker is 1 core on the CPU-bound handler); and N workers with the default (no limit,
 *       virtual threads);</li>
 *   <li>gunicorn with N sync workers running the same two handlers written in Python (WSGI), when
 *       {@code gunicorn} is on the PATH ({@code multiproc4j-bench/setup-server-bench.sh} installs
 *       Debian's).</li>
 * </ul>
 * and the cost of a rolling reload under load (duration, failed requests) for each sharing model.
 * {@code ACCEPTOR} is measured twice: with its supervisor in this JVM, and with the supervisor in a
 * JVM of its own, as {@code multiproc serve --acceptor} deploys it. Only that model does per-request
 * work in the supervisor (it accepts, reads each request, hands it to a worker and writes the answer),
 * and in this JVM that work shares the virtual-thread carriers, the heap and the collector with the
 * load generator's clients; the socket models' supervisors do nothing per request.
 *
 * <p>The load is {@link HttpLoad}: C clients on virtual threads in this JVM, each keeping a
 * connection alive (reconnecting when the server closes it, as gunicorn's sync workers do after
 * every response), for a warm-up then a measured interval, repeated; figures are medians of the
 * repetitions. Everything shares the machine's cores, load generator included, as it would with wrk
 * on the same host.
 *
 * <p>Run: {@code java --enable-native-access=ALL-UNNAMED -cp 'multiproc4j-bench/target/multiproc4j-bench-0.1.0-SNAPSHOT.jar:multiproc4j-bench/target/lib/*'
 * io.multiproc4j.bench.ServerBench [full|quick|reload [rounds]|ab ...]}. {@code reload} runs only the
 * reloads, each sharing model with the server workers' AOT cache off and on in alternation (see
 * {@link #reloadProbe}); {@code ab} the trivial rows of chosen sharing models alternated, with CPU per
 * request ({@link #alternate}).
 */
public final class ServerBench {
    /** Spins about 2 ms of CPU: the CPU-bound request. */
    static final long CPU_NANOS = 2_000_000;
    /** The suffix of the rows whose supervisor ran in a JVM of its own. */
    private static final String OWN_JVM = ", supervisor in its own JVM";

    /**
     * @param name         full or quick
     * @param warmupMillis warm-up of each measurement
     * @param measureMillis measured interval
     * @param repetitions  measured intervals per figure
     * @param clients      concurrent clients
     */
    record Mode(String name, long warmupMillis, long measureMillis, int repetitions, int clients) {}

    private static final Mode FULL = new Mode("full", 3000, 10_000, 3, 16);
    private static final Mode QUICK = new Mode("quick", 1000, 2000, 1, 16);

    private ServerBench() {}

    /** The trivial handler: a 2-byte body. */
    public static final class Trivial implements HttpHandler {
        @Override
        public void handle(HttpExchange exchange) throws IOException {
            byte[] body = "ok".getBytes(StandardCharsets.US_ASCII);
            exchange.sendResponseHeaders(200, body.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        }
    }

    /** The CPU-bound handler: ~2 ms of arithmetic, then a small body. */
    public static final class Cpu implements HttpHandler {
        @Override
        public void handle(HttpExchange exchange) throws IOException {
            long end = System.nanoTime() + CPU_NANOS;
            long x = 1;
            while (System.nanoTime() < end) {
                for (int i = 0; i < 100; i++) {
                    x = x * 6364136223846793005L + 1442695040888963407L;
                }
            }
            byte[] body = Long.toString(x & 0xff).getBytes(StandardCharsets.US_ASCII);
            exchange.sendResponseHeaders(200, body.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        }
    }

    private static final String WSGI = """
            import time

            def trivial(environ, start_response):
                start_response('200 OK', [('Content-Length', '2')])
                return [b'ok']

            def cpu(environ, start_response):
                end = time.perf_counter() + 0.002
                x = 1
                while time.perf_counter() < end:
                    for _ in range(100):
                        x = (x * 6364136223846793005 + 1442695040888963407) & 0xFFFFFFFFFFFFFFFF
                body = str(x & 0xff).encode()
                start_response('200 OK', [('Content-Length', str(len(body)))])
                return [body]
            """;

    /** One figure: a configuration under one handler. */
    record Figure(String config, String handler, double perSecond, double p50, double p99, long failed) {}

    /**
     * @param args {@code full} (default) or {@code quick}
     * @throws Exception when a server cannot start
     */
    public static void main(String[] args) throws Exception {
        if (args.length == 3 && args[0].equals("--one-jvm")) {
            oneJvmMain(Integer.parseInt(args[1]), args[2]);
            return;
        }
        if (args.length == 5 && args[0].equals("--supervisor")) {
            supervisorMain(Integer.parseInt(args[1]), PortSharing.valueOf(args[2]), Integer.parseInt(args[3]), args[4]);
            return;
        }
        if (args.length > 0 && args[0].equals("reload")) {
            reloadProbe(args.length > 1 ? Integer.parseInt(args[1]) : 2);
            return;
        }
        if (args.length > 0 && args[0].equals("ab")) {
            alternate(args);
            return;
        }
        Mode mode = args.length > 0 && args[0].equals("quick") ? QUICK : FULL;
        int cores = Runtime.getRuntime().availableProcessors();
        System.out.printf("ServerBench %s: nproc %d, %s, %d clients, %d ms warm-up + %d ms x %d%n", mode.name(), cores,
                Runtime.version(), mode.clients(), mode.warmupMillis(), mode.measureMillis(), mode.repetitions());
        // The first server of a new build trains the workers' AOT cache in the background: not during a measurement.
        System.out.println(awaitServerAotCache(cores) ? "" : "server workers without an AOT cache (class path directory, or turned off)");
        List<Figure> figures = new ArrayList<>();
        for (String handler : List.of("trivial", "cpu")) {
            Class<? extends HttpHandler> type = handler.equals("trivial") ? Trivial.class : Cpu.class;
            figures.add(oneJvm(mode, cores, handler));
            for (PortSharing sharing : PortSharing.values()) {
                for (int n : cores > 1 ? new int[] {1, cores} : new int[] {1}) {
                    // threadsPerWorker(1): one request at a time per worker, as gunicorn's sync workers
                    try (Supervisor server = Supervisor.builder().http(type).sharing(sharing).model(WorkerModel.prefork(n))
                            .threadsPerWorker(1).workerOutput(WorkerOutput.DISCARD).log(l -> { }).start()) {
                        figures.add(measure(mode, sharing + " x" + n, handler, server.port()));
                        perWorker(server);
                    }
                    if (sharing == PortSharing.ACCEPTOR) {
                        figures.add(supervisorJvm(mode, sharing, n, handler));
                    }
                }
            }
            // the default: no limit per worker, a virtual thread per request
            try (Supervisor server = Supervisor.builder().http(type).sharing(PortSharing.SHARED_SOCKET)
                    .model(WorkerModel.prefork(cores)).workerOutput(WorkerOutput.DISCARD).log(l -> { }).start()) {
                figures.add(measure(mode, "SHARED_SOCKET x" + cores + ", virtual threads", handler, server.port()));
                perWorker(server);
            }
            figures.add(gunicorn(mode, cores, handler));
        }
        System.out.println();
        System.out.println("| handler | server | req/s | p50 ms | p99 ms | failed |");
        System.out.println("| --- | --- | ---: | ---: | ---: | ---: |");
        for (Figure f : figures) {
            if (f == null) {
                continue;
            }
            System.out.printf(Locale.ROOT, "| %s | %s | %.0f | %.2f | %.2f | %d |%n", f.handler(), f.config(), f.perSecond(),
                    f.p50(), f.p99(), f.failed());
        }
        System.out.println();
        ratios(figures, cores);
        System.out.println();
        reloads(mode, cores);
    }

    private static void ratios(List<Figure> figures, int cores) {
        Figure gTrivial = find(figures, "gunicorn x" + cores, "trivial");
        for (PortSharing sharing : PortSharing.values()) {
            ratioLine(figures, cores, gTrivial, sharing.name(), "");
            if (sharing == PortSharing.ACCEPTOR) {
                ratioLine(figures, cores, gTrivial, sharing.name(), OWN_JVM);
            }
        }
    }

    private static void ratioLine(List<Figure> figures, int cores, Figure gTrivial, String sharing, String suffix) {
        Figure t = find(figures, sharing + " x" + cores + suffix, "trivial");
        Figure c1 = find(figures, sharing + " x1" + suffix, "cpu");
        Figure cn = find(figures, sharing + " x" + cores + suffix, "cpu");
        StringBuilder line = new StringBuilder(sharing).append(suffix).append(": ");
        if (t != null && gTrivial != null) {
            line.append(String.format(Locale.ROOT, "trivial %.1fx gunicorn's req/s (goal >= 5), p99 %.2f vs %.2f ms (goal <=); ",
                    t.perSecond() / gTrivial.perSecond(), t.p99(), gTrivial.p99()));
        } else {
            line.append("trivial vs gunicorn: not measured (no gunicorn); ");
        }
        if (c1 != null && cn != null && cn != c1) {
            line.append(String.format(Locale.ROOT, "cpu %d workers / 1 worker = %.2fx (goal >= 1.8)", cores,
                    cn.perSecond() / c1.perSecond()));
        }
        System.out.println(line);
    }

    /** Prints the requests each worker served (warm-up included): whether the load was spread over them. */
    private static void perWorker(Supervisor server) {
        System.out.println("           requests per worker: " + server.workers().stream()
                .map(w -> Long.toString(w.requestsServed())).toList());
    }

    private static Figure find(List<Figure> figures, String config, String handler) {
        return figures.stream().filter(f -> f != null && f.config().equals(config) && f.handler().equals(handler))
                .findFirst().orElse(null);
    }

    private static Figure measure(Mode mode, String config, String handler, int port) throws InterruptedException {
        String path = "/";
        HttpLoad.Run warm = HttpLoad.start(port, path, mode.clients(), Long.MAX_VALUE, false);
        Thread.sleep(mode.warmupMillis()); // a timed warm-up is what is measured against, not a synchronisation
        warm.finish();
        double[] rate = new double[mode.repetitions()];
        double[] p50 = new double[mode.repetitions()];
        double[] p99 = new double[mode.repetitions()];
        long failed = 0;
        for (int r = 0; r < mode.repetitions(); r++) {
            HttpLoad.Run run = HttpLoad.start(port, path, mode.clients(), Long.MAX_VALUE, false);
            Thread.sleep(mode.measureMillis());
            HttpLoad.Result result = run.finish();
            rate[r] = result.perSecond();
            p50[r] = result.latencyMillis(0.5);
            p99[r] = result.latencyMillis(0.99);
            failed += result.failed();
        }
        var f = new Figure(config, handler, median(rate), median(p50), median(p99), failed);
        System.out.printf(Locale.ROOT, "  %-8s %-18s %8.0f req/s  p50 %6.2f ms  p99 %6.2f ms  failed %d%n", handler, config,
                f.perSecond(), f.p50(), f.p99(), failed);
        return f;
    }

    /**
     * {@code ab [rounds] [seconds] [workers] [SHARING...]}: the trivial handler under every named
     * sharing model (default: all three), {@code threadsPerWorker(1)}, the servers started together
     * and measured in turn, round after round, so that a change of the machine's load falls on all of
     * them alike. Besides requests/s it prints CPU per request, read from {@code /proc}: the workers'
     * (their utime + stime) and this JVM's (the load generator, and the supervisor, which accepts in
     * ACCEPTOR mode); on 2 cores shared with the load generator, CPU per request is what sets the rate.
     * {@code -Dserverbench.handler=cpu} measures the CPU-bound handler instead.
     */
    private static void alternate(String[] args) throws Exception {
        int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 3;
        long millis = args.length > 2 ? (long) (Double.parseDouble(args[2]) * 1000) : 3000;
        int n = args.length > 3 ? Integer.parseInt(args[3]) : Runtime.getRuntime().availableProcessors();
        List<PortSharing> sharings = new ArrayList<>();
        for (int i = 4; i < args.length; i++) {
            sharings.add(PortSharing.valueOf(args[i]));
        }
        if (sharings.isEmpty()) {
            sharings.addAll(List.of(PortSharing.values()));
        }
        String handler = System.getProperty("serverbench.handler", "trivial");
        Class<? extends HttpHandler> type = handler.equals("cpu") ? Cpu.class : Trivial.class;
        System.out.printf(Locale.ROOT, "ServerBench ab: nproc %d, %s, %s handler, %d worker(s) each, %d rounds of %d ms, "
                + "load average %s%n", Runtime.getRuntime().availableProcessors(), Runtime.version(), handler, n, rounds, millis,
                loadAverage());
        List<Supervisor> servers = new ArrayList<>();
        try {
            for (PortSharing sharing : sharings) {
                String options = System.getProperty("serverbench.workerOptions", ""); // for experiments: worker JVM options
                servers.add(Supervisor.builder().http(type).sharing(sharing).model(WorkerModel.prefork(n))
                        .threadsPerWorker(1).jvmOptions(options.isBlank() ? List.of() : List.of(options.trim().split("\\s+")))
                        .workerOutput(WorkerOutput.DISCARD).log(l -> { }).start());
            }
            for (Supervisor server : servers) { // warm every server and its path through this JVM
                HttpLoad.Run warm = HttpLoad.start(server.port(), "/", 16, Long.MAX_VALUE, false);
                Thread.sleep(Math.max(5000, millis)); // the workers' JIT settles (CPU per request falls for ~5 s)
                warm.finish();
            }
            System.out.println("| round | server | req/s | p99 ms | worker CPU µs/req | this JVM CPU µs/req | total µs/req | per worker |");
            System.out.println("| ---: | --- | ---: | ---: | ---: | ---: | ---: | --- |");
            double[][] perReq = new double[servers.size()][rounds];
            double[][] rates = new double[servers.size()][rounds];
            for (int r = 0; r < rounds; r++) {
                for (int i = 0; i < servers.size(); i++) {
                    Supervisor server = servers.get(i);
                    List<Long> pids = server.workers().stream().map(w -> w.pid()).toList();
                    List<Long> served0 = server.workers().stream().map(w -> w.requestsServed()).toList();
                    long w0 = cpuNanos(pids);
                    long j0 = cpuNanos(List.of(ProcessHandle.current().pid()));
                    HttpLoad.Run run = HttpLoad.start(server.port(), "/", 16, Long.MAX_VALUE, false);
                    Thread.sleep(millis);
                    HttpLoad.Result result = run.finish();
                    double requests = result.ok() + result.failed();
                    double worker = (cpuNanos(pids) - w0) / 1e3 / requests;
                    double jvm = (cpuNanos(List.of(ProcessHandle.current().pid())) - j0) / 1e3 / requests;
                    Thread.sleep(600); // the served counts come with the heartbeats (every 250 ms): let the last ones in
                    List<Long> served1 = server.workers().stream().map(w -> w.requestsServed()).toList();
                    List<Long> split = new ArrayList<>();
                    for (int k = 0; k < Math.min(served0.size(), served1.size()); k++) {
                        split.add(served1.get(k) - served0.get(k));
                    }
                    perReq[i][r] = worker + jvm;
                    rates[i][r] = result.perSecond();
                    System.out.printf(Locale.ROOT, "| %d | %s x%d | %.0f | %.2f | %.1f | %.1f | %.1f | %s |%s%n", r + 1,
                            sharings.get(i), n, result.perSecond(), result.latencyMillis(0.99), worker, jvm, worker + jvm, split,
                            result.failed() == 0 ? "" : " failed " + result.failed());
                }
            }
            // On a loaded machine the first round still pays for the workers' JIT: from 3 rounds on it is left out.
            int from = rounds >= 3 ? 1 : 0;
            for (int i = 0; i < servers.size(); i++) {
                System.out.printf(Locale.ROOT, "%s x%d: median of rounds %d-%d: %.0f req/s, %.1f µs CPU/req%n", sharings.get(i),
                        n, from + 1, rounds, median(Arrays.copyOfRange(rates[i], from, rounds)),
                        median(Arrays.copyOfRange(perReq[i], from, rounds)));
            }
            System.out.println("load average at the end: " + loadAverage());
        } finally {
            for (Supervisor server : servers) {
                server.close();
            }
        }
    }

    private static String loadAverage() {
        try {
            String[] f = Files.readString(Path.of("/proc/loadavg")).trim().split(" ");
            return f[0] + " " + f[1] + " " + f[2];
        } catch (IOException e) {
            return "unknown";
        }
    }

    /** @return the CPU time (user + system) the processes have used, from /proc/PID/stat */
    private static long cpuNanos(List<Long> pids) throws IOException {
        long ticks = 0;
        for (long pid : pids) {
            String stat;
            try {
                stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
            } catch (IOException e) {
                continue; // it exited
            }
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            ticks += Long.parseLong(f[11]) + Long.parseLong(f[12]); // utime, stime (fields 14 and 15)
        }
        return ticks * 10_000_000L; // USER_HZ is 100 on Linux
    }

    private static double median(double[] values) {
        double[] v = values.clone();
        Arrays.sort(v);
        return v[v.length / 2];
    }

    private static Figure oneJvm(Mode mode, int cores, String handler) throws Exception {
        int port = freePort();
        List<String> cmd = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp",
                System.getProperty("java.class.path"), ServerBench.class.getName(), "--one-jvm", Integer.toString(port), handler);
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        try {
            awaitPort(port, p);
            return measure(mode, "one JVM, " + 2 * cores + " threads", handler, port);
        } finally {
            p.destroy();
            p.waitFor(10, TimeUnit.SECONDS);
        }
    }

    /**
     * The same Supervisor row as in this JVM, with the supervisor in a JVM of its own (default options,
     * as {@code multiproc serve} would run it); its workers' request counts come back on its stdout.
     */
    private static Figure supervisorJvm(Mode mode, PortSharing sharing, int workers, String handler) throws Exception {
        int port = freePort();
        List<String> cmd = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"), ServerBench.class.getName(),
                "--supervisor", Integer.toString(port), sharing.name(), Integer.toString(workers), handler);
        Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        OutputStream toChild = p.getOutputStream();
        try (var fromChild = new java.io.BufferedReader(new java.io.InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            String ready = fromChild.readLine(); // the supervisor's start() returned: every worker is READY
            if (ready == null || !ready.startsWith("listening")) {
                throw new IOException("the supervisor JVM exited before it listened: " + ready);
            }
            Figure f = measure(mode, sharing + " x" + workers + OWN_JVM, handler, port);
            toChild.close(); // EOF: the supervisor prints its workers' counts and closes
            System.out.println("           requests per worker: " + fromChild.readLine());
            return f;
        } finally {
            toChild.close();
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                p.waitFor(10, TimeUnit.SECONDS);
            }
        }
    }

    private static void supervisorMain(int port, PortSharing sharing, int workers, String handler) throws IOException {
        Class<? extends HttpHandler> type = handler.equals("cpu") ? Cpu.class : Trivial.class;
        try (Supervisor server = Supervisor.builder().http(type).sharing(sharing).model(WorkerModel.prefork(workers)).port(port)
                .threadsPerWorker(1).workerOutput(WorkerOutput.DISCARD).log(l -> { }).start()) {
            System.out.println("listening on " + server.port());
            System.out.flush();
            System.in.transferTo(java.io.OutputStream.nullOutputStream()); // until the bench closes our stdin
            System.out.println(server.workers().stream().map(w -> Long.toString(w.requestsServed())).toList());
            System.out.flush();
        }
    }

    private static void oneJvmMain(int port, String handler) throws IOException {
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", port), 4096);
        server.createContext("/", handler.equals("cpu") ? new Cpu() : new Trivial());
        server.setExecutor(Executors.newFixedThreadPool(2 * Runtime.getRuntime().availableProcessors()));
        server.start();
    }

    private static Figure gunicorn(Mode mode, int cores, String handler) throws Exception {
        Path gunicorn = Path.of("/usr/bin/gunicorn");
        if (!Files.isExecutable(gunicorn)) {
            System.out.println("  gunicorn: not installed (run multiproc4j-bench/setup-server-bench.sh); not compared");
            return null;
        }
        Path dir = Files.createTempDirectory("multiproc4j-serverbench");
        Files.writeString(dir.resolve("benchapp.py"), WSGI);
        int port = freePort();
        Process p = new ProcessBuilder(gunicorn.toString(), "-w", Integer.toString(cores), "-k", "sync", "-b",
                "127.0.0.1:" + port, "--backlog", "4096", "--chdir", dir.toString(), "benchapp:" + handler)
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        try {
            awaitPort(port, p);
            return measure(mode, "gunicorn x" + cores, handler, port);
        } finally {
            p.destroy();
            p.waitFor(10, TimeUnit.SECONDS);
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            Files.deleteIfExists(dir.resolve("benchapp.py"));
            try (var s = Files.walk(dir)) {
                s.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
            }
        }
    }

    private static void reloads(Mode mode, int cores) throws Exception {
        System.out.println("| sharing | reload ms (median) | failed requests during reloads | requests |");
        System.out.println("| --- | ---: | ---: | ---: |");
        for (PortSharing sharing : PortSharing.values()) {
            try (Supervisor server = Supervisor.builder().http(Trivial.class).sharing(sharing)
                    .model(WorkerModel.prefork(cores)).workerOutput(WorkerOutput.DISCARD).log(l -> { }).start()) {
                HttpLoad.Run run = HttpLoad.start(server.port(), "/", mode.clients(), Long.MAX_VALUE, true);
                int reloads = Math.max(3, mode.repetitions());
                double[] ms = new double[reloads];
                for (int i = 0; i < reloads; i++) {
                    long t0 = System.nanoTime();
                    server.reload();
                    ms[i] = (System.nanoTime() - t0) / 1e6;
                }
                HttpLoad.Result r = run.finish();
                System.out.printf(Locale.ROOT, "| %s | %.0f | %d | %d |%n", sharing, median(ms), r.failed(), r.ok() + r.failed());
            }
        }
    }

    /**
     * The reloads alone, for A/B comparisons on a noisy machine: trains the server workers' AOT cache
     * first (waiting for it), then for each round and each sharing model, with the cache off and on
     * (the order alternating by round), a server of nproc workers under the reload load (16 clients,
     * a new connection per request) reloaded 3 times; prints each reload's duration, each new
     * worker's start-to-READY time (the supervisor's log), the failed requests and the load average.
     */
    private static void reloadProbe(int rounds) throws Exception {
        int cores = Runtime.getRuntime().availableProcessors();
        System.out.printf("ServerBench reload: nproc %d, %s, 16 clients (new connection per request), %d round(s), AOT dir %s%n",
                cores, Runtime.version(), rounds, io.multiproc4j.internal.supervise.AotCache.directory());
        if (!awaitServerAotCache(cores)) {
            System.out.println("the server workers get no AOT cache (a directory on the class path, or -Dmultiproc4j.aot=off):"
                    + " comparing nothing");
            return;
        }
        System.out.println("| round | sharing | AOT cache | reloads ms | median | new worker start-to-READY ms (median)"
                + " | last READY to reload's return ms (median) | failed | load avg |");
        System.out.println("| ---: | --- | --- | --- | ---: | ---: | ---: | ---: | --- |");
        java.util.Map<String, List<Double>> all = new java.util.TreeMap<>();
        for (int round = 1; round <= rounds; round++) {
            for (int k = 0; k < 2; k++) {
                boolean aot = (round + k) % 2 == 0;
                for (PortSharing sharing : PortSharing.values()) {
                    String load = loadAverage();
                    if (aot) {
                        System.clearProperty(io.multiproc4j.internal.supervise.AotCache.PROPERTY);
                    } else {
                        System.setProperty(io.multiproc4j.internal.supervise.AotCache.PROPERTY, "off");
                    }
                    List<Double> starts = java.util.Collections.synchronizedList(new ArrayList<>());
                    var startedIn = java.util.regex.Pattern.compile(" started in (\\d+) ms");
                    double[] ms = new double[3];
                    double[] retire = new double[3];
                    java.util.concurrent.atomic.AtomicLong lastReady = new java.util.concurrent.atomic.AtomicLong();
                    long failed;
                    try (Supervisor server = Supervisor.builder().http(Trivial.class).sharing(sharing)
                            .model(WorkerModel.prefork(cores)).workerOutput(WorkerOutput.DISCARD).log(line -> {
                                var m = startedIn.matcher(line);
                                if (line.contains("replacing: reload") && m.find()) {
                                    starts.add(Double.parseDouble(m.group(1)));
                                    lastReady.set(System.nanoTime());
                                }
                            }).start()) {
                        HttpLoad.Run run = HttpLoad.start(server.port(), "/", 16, Long.MAX_VALUE, true);
                        Thread.sleep(1000); // the load under way before the first reload, as in the full bench
                        for (int i = 0; i < ms.length; i++) {
                            long t0 = System.nanoTime();
                            server.reload();
                            long t1 = System.nanoTime();
                            ms[i] = (t1 - t0) / 1e6;
                            retire[i] = (t1 - lastReady.get()) / 1e6;
                        }
                        failed = run.finish().failed();
                    } finally {
                        System.clearProperty(io.multiproc4j.internal.supervise.AotCache.PROPERTY);
                    }
                    double[] st = starts.stream().mapToDouble(Double::doubleValue).toArray();
                    String config = sharing + (aot ? " AOT on" : " AOT off");
                    for (double d : ms) {
                        all.computeIfAbsent(config, c -> new ArrayList<>()).add(d);
                    }
                    System.out.printf(Locale.ROOT, "| %d | %s | %s | %s | %.0f | %.0f | %.0f | %d | %s |%n", round, sharing,
                            aot ? "on" : "off", Arrays.stream(ms).mapToObj(d -> String.format(Locale.ROOT, "%.0f", d)).toList(),
                            median(ms), st.length == 0 ? Double.NaN : median(st), median(retire), failed, load);
                }
            }
        }
        System.out.println();
        System.out.println("| sharing, AOT cache | reloads | median ms |");
        System.out.println("| --- | ---: | ---: |");
        all.forEach((config, list) -> System.out.printf(Locale.ROOT, "| %s | %d | %.0f |%n", config, list.size(),
                median(list.stream().mapToDouble(Double::doubleValue).toArray())));
    }

    /**
     * Starts a server, which starts the server workers' cache training when it is missing, and
     * reloads it until its workers run with {@code -XX:AOTCache=} (at most 5 minutes).
     *
     * @return whether they do
     */
    private static boolean awaitServerAotCache(int cores) throws Exception {
        try (Supervisor server = Supervisor.builder().http(Trivial.class).sharing(PortSharing.SHARED_SOCKET)
                .model(WorkerModel.prefork(cores)).workerOutput(WorkerOutput.DISCARD).log(l -> { }).start()) {
            long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(5);
            long t0 = System.nanoTime();
            while (true) {
                if (server.workers().stream().allMatch(w -> usesAotCache(w.pid()))) {
                    System.out.printf(Locale.ROOT, "server workers use an AOT cache (waited %.0f s)%n", (System.nanoTime() - t0) / 1e9);
                    return true;
                }
                if (System.nanoTime() > deadline || !io.multiproc4j.internal.supervise.AotCache.enabled()) {
                    return false;
                }
                Thread.sleep(3000); // polling the trainer, a detached JVM at nice 10: not a synchronisation
                server.reload();
            }
        }
    }

    /** @return whether the process runs with {@code -XX:AOTCache=} on its command line */
    static boolean usesAotCache(long pid) {
        try {
            String cmdline = new String(Files.readAllBytes(Path.of("/proc", Long.toString(pid), "cmdline")), StandardCharsets.UTF_8);
            return Arrays.asList(cmdline.split("\0")).stream().anyMatch(a -> a.startsWith("-XX:AOTCache="));
        } catch (IOException e) {
            return false;
        }
    }

    private static int freePort() throws IOException {
        try (var s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    private static void awaitPort(int port, Process p) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline) {
            if (!p.isAlive()) {
                throw new IOException("the server exited with " + p.exitValue() + " before it listened on " + port);
            }
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", port), 1000);
                return;
            } catch (IOException e) {
                Thread.sleep(50);
            }
        }
        throw new IOException("nothing listened on " + port + " within 60 s");
    }
}
