package io.multiproc4j.cli.tour;

import io.multiproc4j.cli.report.Chart;
import io.multiproc4j.cli.report.Section;
import io.multiproc4j.cli.report.Table;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
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
 * server ({@code multiproc4j-server}'s {@code Supervisor}) with 1 worker process and with one per core,
 * under the same concurrent load. The tour compiles without that module: it is looked up by name at
 * run time, and while it is not on the class path the section is skipped with a note.
 */
public final class ServerExperiment implements Experiment {
    static final String SUPERVISOR = "io.multiproc4j.server.Supervisor";
    static final String WORKER_MODEL = "io.multiproc4j.server.WorkerModel";

    @Override
    public String id() {
        return "server";
    }

    @Override
    public String description() {
        return "requests/s of a CPU-bound handler on 1 vs N server workers (module multiproc4j-server; skipped while absent)";
    }

    @Override
    public int steps(TourContext ctx) {
        return 2;
    }

    @Override
    public Section run(TourContext ctx) throws Exception {
        Class<?> supervisor = ClusterExperiment.optional(SUPERVISOR);
        Class<?> model = ClusterExperiment.optional(WORKER_MODEL);
        Table table = new Table("server workers", "requests", "concurrent clients", "time ms", "requests/s");
        if (supervisor == null || model == null) {
            ctx.progress().step("server: module absent");
            ctx.progress().step("server: module absent");
            table.row(1, null, null, null, null);
            return new Section(id(), "A CPU-bound handler on 1 vs N server workers (skipped)", table,
                    "Skipped: the server module (multiproc4j-server, " + SUPERVISOR + ") is not on this build's class"
                            + " path. Once it is, this section serves a CPU-bound handler with 1 worker process and"
                            + " with one per core and compares the requests per second.", null);
        }
        int requests = ctx.size(2_000, 600, 40);
        int clients = 16;
        int many = Math.max(2, ctx.cores());
        double[] rate = new double[2];
        int[] counts = {1, many};
        for (int i = 0; i < 2; i++) {
            try (AutoCloseable server = start(supervisor, model, counts[i])) {
                int port = (int) server.getClass().getMethod("port").invoke(server);
                URI uri = URI.create("http://127.0.0.1:" + port + "/");
                load(uri, Math.max(4, requests / 10), clients); // warm-up: JIT, connections
                long t0 = System.nanoTime();
                load(uri, requests, clients);
                double ms = (System.nanoTime() - t0) / 1e6;
                rate[i] = requests / (ms / 1000);
                table.row(counts[i], requests, clients, ms, rate[i]);
            }
            ctx.progress().step("server: " + counts[i] + " worker(s)");
        }
        String reading = interpret(rate[0], rate[1], many, ctx.cores());
        Chart chart = Chart.bars("CPU-bound handler: requests/s", "requests/s", "1 worker", many + " workers")
                .bar("Java", rate);
        return new Section(id(), String.format(Locale.ROOT, "A CPU-bound handler on 1 vs %d server workers", many),
                table, reading, chart);
    }

    private static AutoCloseable start(Class<?> supervisor, Class<?> model, int workers) throws Exception {
        try {
            Object b = supervisor.getMethod("builder").invoke(null);
            b = call(b, "http", Class.class, TourCpuHandler.class);
            b = call(b, "port", int.class, 0);
            Object prefork = model.getMethod("prefork", int.class).invoke(null, workers);
            b = call(b, "model", model, prefork);
            Object server = b.getClass().getMethod("start").invoke(b);
            return (AutoCloseable) server;
        } catch (InvocationTargetException e) {
            throw e.getCause() instanceof Exception x ? x : e;
        } catch (NoSuchMethodException e) {
            throw new IllegalStateException("the server module's API is not the one the tour expects"
                    + " (Supervisor.builder().http(Class).port(int).model(WorkerModel.prefork(int)).start()): " + e, e);
        }
    }

    private static Object call(Object target, String name, Class<?> type, Object arg) throws Exception {
        Method m = target.getClass().getMethod(name, type);
        return m.invoke(target, arg);
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
     * @return what the two rates say
     */
    static String interpret(double one, double many, int workers, int cores) {
        double gain = many / one;
        return switch (Readings.of(gain)) {
            case FASTER -> String.format(Locale.ROOT, "%d workers served %,.0f requests/s against one worker's %,.0f"
                    + " (%s): a CPU-bound handler in one process uses one core at a time for its work, and worker"
                    + " processes on one port use them all (%d usable).", workers, many, one, Readings.times(gain), cores);
            case SAME -> String.format(Locale.ROOT, "%d workers served about as many requests/s as one (%,.0f vs"
                    + " %,.0f): the load generator in this process competed with the workers for the %d cores.",
                    workers, many, one, cores);
            case SLOWER -> String.format(Locale.ROOT, "%d workers served fewer requests/s than one (%,.0f vs %,.0f):"
                    + " with %d usable cores shared with the load generator, extra workers only took turns.", workers,
                    many, one, cores);
        };
    }
}
