package io.multiproc4j.cli.tour;

import io.multiproc4j.cli.report.Chart;
import io.multiproc4j.cli.report.Section;
import io.multiproc4j.cli.report.Table;
import io.multiproc4j.server.Supervisor;
import io.multiproc4j.server.WorkerInfo;
import io.multiproc4j.server.WorkerModel;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Requests per second of a CPU-bound HTTP handler ({@link TourCpuHandler}) served by the multi-worker
 * server ({@link Supervisor} of {@code multiproc4j-server}) with 1 worker process and with one per core,
 * under the same concurrent load from this JVM. Each worker runs one request at a time
 * ({@code threadsPerWorker(1)}, gunicorn's sync worker), so the worker count is the number of cores
 * the handler can use. The CLI depends on the module, so the calls are typed; the section is skipped
 * with a note only when the module's jar is really missing at run time. The supervisor's log lines
 * (worker started, stopped) are kept out of the tour's output.
 */
public final class ServerExperiment implements Experiment {
    static final String SUPERVISOR = "io.multiproc4j.server.Supervisor";
    /** A busiest worker more than 10 points above an even share (1/workers) reads as uneven load. */
    static final double UNEVEN_BY = 0.10;

    @Override
    public String id() {
        return "server";
    }

    @Override
    public String description() {
        return "requests/s of a CPU-bound handler on 1 vs N server worker processes (multiproc4j-server's Supervisor)";
    }

    @Override
    public int steps(TourContext ctx) {
        return 2;
    }

    @Override
    public Section run(TourContext ctx) throws Exception {
        Table table = new Table("server workers", "requests", "concurrent clients", "time ms", "requests/s",
                "busiest worker's share");
        if (ClusterExperiment.optional(SUPERVISOR) == null) {
            ctx.progress().step("server: module absent");
            ctx.progress().step("server: module absent");
            table.row(1, null, null, null, null, null);
            return new Section(id(), "A CPU-bound handler on 1 vs N server workers (skipped)", table,
                    skippedNote(), null);
        }
        int requests = ctx.size(2_000, 300, 40);
        int clients = 16;
        int many = Math.max(2, ctx.cores());
        double[] rate = new double[2];
        double busiestShare = Double.NaN;
        int[] counts = {1, many};
        List<String> startedDuring = List.of();
        for (int i = 0; i < 2; i++) {
            TourContext.Early<Supervisor> early = ctx.takeEarly(earlyKey(counts[i]), Supervisor.class);
            if (early != null) {
                startedDuring = early.overlapped();
            }
            try (Supervisor server = early != null ? early.value() : start(counts[i])) {
                URI uri = URI.create("http://127.0.0.1:" + server.port() + "/");
                int warmup = Math.max(4, requests / 10);
                load(uri, warmup, clients); // warm-up: JIT, connections
                long t0 = System.nanoTime();
                load(uri, requests, clients);
                double ms = (System.nanoTime() - t0) / 1e6;
                rate[i] = requests / (ms / 1000);
                Double share = busiestShare(server, warmup + requests);
                if (i == 1) {
                    busiestShare = share == null ? Double.NaN : share;
                }
                table.row(counts[i], requests, clients, ms, rate[i], share);
            }
            ctx.progress().step("server: " + counts[i] + " worker(s)");
        }
        ctx.record(id() + ".gain", rate[1] / rate[0]);
        String reading = interpret(rate[0], rate[1], many, ctx.cores(), busiestShare, startedDuring);
        Chart chart = Chart.bars("CPU-bound handler: requests/s", "requests/s", "1 worker", many + " workers")
                .bar("Java", rate);
        return new Section(id(), String.format(Locale.ROOT, "A CPU-bound handler on 1 vs %d server workers", many),
                table, reading, chart);
    }

    private static String earlyKey(int workers) {
        return "server-" + workers;
    }

    /** @return a supervisor of {@code workers} prefork workers, one request at a time each, its log kept out */
    private static Supervisor start(int workers) {
        List<String> log = new ArrayList<>();
        return Supervisor.builder().http(TourCpuHandler.class).port(0)
                .model(WorkerModel.prefork(workers)).threadsPerWorker(1)
                .log(line -> {
                    synchronized (log) {
                        log.add(line);
                    }
                }).start();
    }

    @Override
    public void startEarly(TourContext ctx) {
        if (ClusterExperiment.optional(SUPERVISOR) != null) {
            for (int workers : new int[] {1, Math.max(2, ctx.cores())}) {
                ctx.startEarly(id(), earlyKey(workers), () -> start(workers));
            }
        }
    }

    static String skippedNote() {
        return "Skipped: the server module (multiproc4j-server, " + SUPERVISOR + ") is not on this installation's"
                + " class path. With it, this section serves a CPU-bound handler with 1 worker process and with"
                + " one per core and compares the requests per second.";
    }

    /**
     * The workers report their request counts with their heartbeat replies, so the supervisor's counts
     * lag: waits (up to 10 s) until they add up to every request sent, warm-up included.
     *
     * @return the busiest worker's share of the requests, or null when the counts never added up
     */
    private static Double busiestShare(Supervisor server, long sent) throws InterruptedException {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (System.nanoTime() < deadline) {
            List<WorkerInfo> workers = server.workers();
            long all = workers.stream().mapToLong(WorkerInfo::requestsServed).sum();
            if (all >= sent) {
                return (double) workers.stream().mapToLong(WorkerInfo::requestsServed).max().orElse(0) / all;
            }
            Thread.sleep(20); // polling the supervisor's view, bounded by the deadline above
        }
        return null;
    }

    private static void load(URI uri, int requests, int clients) throws Exception {
        AtomicInteger left = new AtomicInteger(requests);
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<?>> running = new ArrayList<>();
            for (int c = 0; c < clients; c++) {
                running.add(pool.submit(() -> {
                    while (left.getAndDecrement() > 0) {
                        HttpResponse<String> r = LocalHttpServer.client().send(HttpRequest.newBuilder(uri).build(),
                                HttpResponse.BodyHandlers.ofString());
                        if (r.statusCode() != 200) {
                            throw new IllegalStateException("the server answered " + r.statusCode());
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> f : running) {
                f.get();
            }
        }
    }

    /**
     * @param one          requests/s with one worker
     * @param many         requests/s with {@code workers} workers
     * @param workers      how many workers the second run had
     * @param cores        usable processors
     * @param busiestShare the share of the second run's requests its busiest worker served (1/workers is even)
     * @param startedDuring the sections that ran while both servers started in the background (empty: each
     *                      started in this section, just before its run)
     * @return what the two rates say
     */
    static String interpret(double one, double many, int workers, int cores, double busiestShare,
                            List<String> startedDuring) {
        double gain = many / one;
        String balance = Double.isNaN(busiestShare) ? ""
                : busiestShare > 1.0 / workers + UNEVEN_BY
                ? String.format(Locale.ROOT, " The load was uneven: one of the %d workers served %.0f %% of the"
                        + " requests (an HTTP client keeps its connection, so it stays with the worker that accepted"
                        + " it).", workers, busiestShare * 100)
                : String.format(Locale.ROOT, " The busiest of the %d workers served %.0f %% of the requests, close"
                        + " to an even share.", workers, busiestShare * 100);
        String rates = switch (Readings.of(gain)) {
            case FASTER -> String.format(Locale.ROOT, "%d workers served %,.0f requests/s against one worker's %,.0f"
                    + " (%s, with %d usable cores): a worker runs one request at a time, so one worker computes on"
                    + " one core, and worker processes sharing the port compute on several.", workers, many, one,
                    Readings.times(gain), cores);
            case SAME -> String.format(Locale.ROOT, "%d workers served about as many requests/s as one (%,.0f vs"
                    + " %,.0f, %.2fx): the extra worker added no throughput here; with %d usable cores shared with"
                    + " the load generator in this JVM, there was no idle core for it.", workers, many, one, gain,
                    cores);
            case SLOWER -> String.format(Locale.ROOT, "%d workers served fewer requests/s than one (%,.0f vs %,.0f,"
                    + " %.2fx): with %d usable cores shared with the load generator, the extra workers only took"
                    + " turns on them.", workers, many, one, gain, cores);
        };
        String started = startedDuring.isEmpty() ? ""
                : String.format(Locale.ROOT, " Both servers were started in the background while the %s section%s"
                        + " ran, where no speed is measured; the %d-worker one waited idle while the single worker"
                        + " was timed, and only the requests were timed.", Readings.and(startedDuring),
                        startedDuring.size() == 1 ? "" : "s", workers);
        return rates + balance + started;
    }
}
