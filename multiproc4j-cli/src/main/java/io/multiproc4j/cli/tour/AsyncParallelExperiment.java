package io.multiproc4j.cli.tour;

import io.multiproc4j.ProcessPoolExecutor;
import io.multiproc4j.TaskExecutor;
import io.multiproc4j.bench.Workloads;
import io.multiproc4j.cli.report.Chart;
import io.multiproc4j.cli.report.Section;
import io.multiproc4j.cli.report.Table;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;

/**
 * Parallel and asynchronous together: documents fetched with {@code HttpClient.sendAsync} from the
 * tour's own slow server, each handed as soon as it arrives to a process-pool executor for CPU-bound
 * parsing ({@code thenCompose(body -> executor.submit(...))}), timed against fetching and parsing one
 * after another in this thread. The waits overlap each other and the parsing, and the parsing runs on
 * every core.
 */
public final class AsyncParallelExperiment implements Experiment {

    @Override
    public String id() {
        return "async-parallel";
    }

    @Override
    public String description() {
        return "HttpClient.sendAsync feeding CPU work to a process executor, vs fetch-then-parse one after another";
    }

    private static int docs(TourContext ctx) {
        return ctx.size(24, 16, 4);
    }

    private static int latencyMs(TourContext ctx) {
        return ctx.size(20, 20, 5);
    }

    private static int parseRounds(TourContext ctx) {
        return ctx.size(3_000, 2_000, 100);
    }

    @Override
    public int steps(TourContext ctx) {
        return 2;
    }

    /**
     * The CPU-bound part: a hash of the document, {@code rounds} times {@link Workloads#heavier}.
     * @param body   the document
     * @param rounds how much work
     * @return the hash
     */
    static int parse(String body, int rounds) {
        int h = body.hashCode();
        for (int i = 0; i < rounds; i++) {
            h = Workloads.heavier(h);
        }
        return h;
    }

    /** Starts the process executor's workers and has each parse once, so that run times only the work. */
    @Override
    public void startEarly(TourContext ctx) {
        int workers = ctx.cores();
        int rounds = parseRounds(ctx);
        ctx.startEarly(id(), id(), () -> {
            TaskExecutor executor = ProcessPoolExecutor.create(workers);
            try {
                List<CompletableFuture<Integer>> warm = new ArrayList<>();
                for (int i = 0; i < 2 * workers; i++) {
                    warm.add(executor.submit(() -> parse("warm-up", rounds)));
                }
                CompletableFuture.allOf(warm.toArray(CompletableFuture[]::new)).join();
                return executor;
            } catch (RuntimeException e) {
                executor.close();
                throw e;
            }
        });
    }

    @Override
    public Section run(TourContext ctx) throws Exception {
        int n = docs(ctx);
        int ms = latencyMs(ctx);
        int rounds = parseRounds(ctx);
        int workers = ctx.cores();
        TourContext.Early<TaskExecutor> early = ctx.takeEarly(id(), TaskExecutor.class);
        // started early, its workers are up and have parsed already: one warm-up run is enough
        TaskExecutor executor = early != null ? early.value() : ctx.processExecutor(workers);
        int warmups = early != null ? 1 : 2;
        double sequential;
        double together;
        double parseOnlyMs;
        try (LocalHttpServer server = new LocalHttpServer()) {
            List<URI> uris = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                uris.add(server.uri(i, ms, 2_000));
            }
            parseOnlyMs = ctx.medianMillis(() -> parse("warm-up", rounds), 3);
            // the same client as the asynchronous way, used blocking: the two ways differ only in overlapping
            sequential = ctx.medianMillis(() -> {
                for (URI u : uris) {
                    parse(send(u), rounds);
                }
            });
            ctx.progress().step("async + parallel: one after another");
            together = ctx.medianMillis(() -> {
                List<CompletableFuture<Integer>> all = new ArrayList<>();
                for (URI u : uris) {
                    all.add(LocalHttpServer.client().sendAsync(HttpRequest.newBuilder(u).build(),
                                    HttpResponse.BodyHandlers.ofString())
                            .thenApply(HttpResponse::body)
                            .thenCompose(body -> executor.submit(() -> parse(body, rounds))));
                }
                CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).join();
            }, warmups);
            ctx.progress().step("async + parallel: together");
        } finally {
            if (early != null) {
                executor.close(); // the context closes only the executors it made itself
            }
        }
        Table table = new Table("way", "documents", "time ms", "speed-up");
        table.row("send, then parse, one after another (this thread)", n, sequential, 1.0);
        table.row("sendAsync + thenCompose(executor.submit(parse)), " + workers + " worker processes", n, together,
                sequential / together);
        table.row("of which: waiting for the server (all documents, one after another)", n, (double) n * ms, null);
        table.row("of which: parsing (all documents, one after another)", n, n * parseOnlyMs, null);
        String reading = interpret(n, ms, parseOnlyMs, sequential, together, workers);
        Chart chart = Chart.bars(String.format(Locale.ROOT, "%d documents, %d ms latency each, CPU-bound parsing", n, ms),
                "time ms", "one after another", "async I/O + process executor").bar("Java", sequential, together);
        return new Section(id(), String.format(Locale.ROOT, "Parallel and asynchronous together: %d documents", n),
                table, reading, chart);
    }

    private static String send(URI uri) {
        try {
            HttpResponse<String> r = LocalHttpServer.client().send(HttpRequest.newBuilder(uri).build(),
                    HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() != 200) {
                throw new IllegalStateException("GET " + uri + " answered " + r.statusCode());
            }
            return r.body();
        } catch (IOException e) {
            throw new UncheckedIOException("GET " + uri + " failed", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted during GET " + uri, e);
        }
    }

    /**
     * @return what the two times say
     */
    static String interpret(int n, int ms, double parseMs, double sequential, double together, int workers) {
        double speedup = sequential / together;
        double waits = (double) n * ms;
        double parsing = n * parseMs;
        double bound = Math.max(ms + parseMs, parsing / workers);
        return switch (Readings.of(speedup)) {
            // the parts are measured apart (parsing on its own, after its own warm-up), so they need not add up
            case FASTER -> String.format(Locale.ROOT, "Fetching and parsing one after another took %.0f ms (the waits"
                    + " alone add up to %.0f ms, and parsing every document, timed apart, to %.0f ms); with sendAsync"
                    + " the %d waits overlapped, and each document went to a worker process as it arrived, so it took"
                    + " %.0f ms, %s faster (the floor here is about %.0f ms: the parsing spread over %d workers). One"
                    + " future type composes the two.", sequential, waits, parsing, n, together,
                    Readings.times(speedup), bound, workers);
            case SAME -> String.format(Locale.ROOT, "Async fetching plus the process executor took %.0f ms, about the"
                    + " %.0f ms of doing it one after another: overlapping the %.0f ms of waits should have saved them,"
                    + " and %d workers should have split the %.0f ms of parsing, so in this run the cores were busy with"
                    + " other work, or shipping each document cost what the overlap saved.", together, sequential, waits,
                    workers, parsing);
            case SLOWER -> parseMs >= 1
                    ? String.format(Locale.ROOT, "Async fetching plus the process executor was slower (%.0f vs %.0f"
                            + " ms), although each document took %.0f ms to parse, far more than shipping it to a worker"
                            + " costs: the %d workers did not get free cores in this run (other load), so the parsing"
                            + " could not spread; rerun it on a quieter machine.", together, sequential, parseMs, workers)
                    : String.format(Locale.ROOT, "Async fetching plus the process executor was slower (%.0f vs %.0f"
                            + " ms): at %.2f ms of parsing per document, shipping it to a worker costs more than parsing"
                            + " it here.", together, sequential, parseMs);
        };
    }
}
