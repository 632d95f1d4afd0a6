package io.multiproc4j.cli.tour;

import io.multiproc4j.Pool;
import io.multiproc4j.cli.report.Chart;
import io.multiproc4j.cli.report.Section;
import io.multiproc4j.cli.report.Table;
import io.multiproc4j.ipc.Connection;
import io.multiproc4j.ipc.Pipe;
import io.multiproc4j.ipc.ProcessQueue;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * The talk's message passing: one producer process sends small messages to this process through a
 * queue (many producers and consumers may share it, so every put and take is locked) and through a
 * one-way pipe (two ends, one writer, one reader). Both are rings in shared memory here.
 */
public final class QueueVsPipeExperiment implements Experiment {

    @Override
    public String id() {
        return "queue-vs-pipe";
    }

    @Override
    public String description() {
        return "small messages from a worker process through a ProcessQueue and through a Pipe";
    }

    @Override
    public java.util.Map<String, Object> pythonParams(TourContext ctx) {
        return java.util.Map.of("n", messages(ctx) / 2);
    }

    @Override
    public java.util.List<String> pythonKeys() {
        return java.util.List.of("n", "queue_per_s", "pipe_per_s");
    }

    @Override
    public int steps(TourContext ctx) {
        return 2;
    }

    private static int messages(TourContext ctx) {
        return ctx.size(100_000, 60_000, 2_000);
    }

    @Override
    public Section run(TourContext ctx) throws Exception {
        int n = messages(ctx);
        Pool pool = ctx.processes(1);
        double queueMs;
        try (ProcessQueue<Integer> queue = ProcessQueue.create(10_000)) {
            long t0 = System.nanoTime();
            CompletableFuture<Integer> producer = pool.applyAsync((Integer count) -> {
                for (int i = 0; i < count; i++) {
                    try {
                        queue.put(i);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        return i;
                    }
                }
                return count;
            }, n);
            long sum = 0;
            for (int i = 0; i < n; i++) {
                sum += queue.take();
            }
            producer.get(60, TimeUnit.SECONDS);
            queueMs = (System.nanoTime() - t0) / 1e6;
            check(sum, n);
        }
        ctx.progress().step("queue vs pipe: queue");

        double pipeMs;
        Pipe<Integer> pipe = Pipe.oneWay();
        try {
            Connection<Integer> writer = pipe.right();
            Connection<Integer> reader = pipe.left();
            long t0 = System.nanoTime();
            CompletableFuture<Integer> producer = pool.applyAsync((Integer count) -> {
                for (int i = 0; i < count; i++) {
                    writer.send(i);
                }
                return count;
            }, n);
            long sum = 0;
            for (int i = 0; i < n; i++) {
                sum += reader.receive();
            }
            producer.get(60, TimeUnit.SECONDS);
            pipeMs = (System.nanoTime() - t0) / 1e6;
            check(sum, n);
        } finally {
            pipe.close();
        }
        ctx.progress().step("queue vs pipe: pipe");

        double queueRate = n / (queueMs / 1000);
        double pipeRate = n / (pipeMs / 1000);
        Table table = new Table("channel", "messages", "time ms", "messages/s");
        table.row("ProcessQueue (put / take)", n, queueMs, queueRate);
        table.row("Pipe.oneWay (send / receive)", n, pipeMs, pipeRate);
        String reading = interpret(queueRate, pipeRate);
        Chart chart = Chart.bars(String.format(Locale.ROOT, "Queue vs pipe: %,d small messages from 1 producer process", n),
                "messages/s", "ProcessQueue / Queue", "Pipe / Pipe(duplex=False)").bar("Java", queueRate, pipeRate);
        PythonFigures py = ctx.python();
        if (py.has(id())) {
            double pq = py.get(id(), "queue_per_s");
            double pp = py.get(id(), "pipe_per_s");
            long pn = py.get(id(), "n").longValue();
            table.row("Python: multiprocessing.Queue (put / get)", pn, pn / pq * 1000, pq);
            table.row("Python: multiprocessing.Pipe(duplex=False)", pn, pn / pp * 1000, pp);
            chart.bar("Python", pq, pp);
            reading += "\n" + pythonReading(queueRate, pipeRate, pq, pp);
        } else {
            reading += "\n" + py.note(id()) + ".";
        }
        return new Section(id(), String.format(Locale.ROOT, "Queue vs pipe: %,d messages from a worker process", n),
                table, reading, chart);
    }

    /**
     * @return what the two rates say
     */
    static String interpret(double queueRate, double pipeRate) {
        double ratio = pipeRate / queueRate;
        return switch (Readings.of(ratio)) {
            case FASTER -> String.format(Locale.ROOT, "The pipe moved %,.0f messages/s and the queue %,.0f (%s as"
                    + " many): a pipe has one writer and one reader, while a queue takes a lock for every put and take"
                    + " so that any number of processes can share it.", pipeRate, queueRate, Readings.times(ratio));
            case SAME -> String.format(Locale.ROOT, "The pipe (%,.0f messages/s) and the queue (%,.0f) moved about as"
                    + " many messages: the cost of the queue's lock for every put and take was hidden by what both"
                    + " share, encoding each message and waking the reader.", pipeRate, queueRate);
            case SLOWER -> String.format(Locale.ROOT, "Surprisingly the queue moved more messages than the pipe"
                    + " (%,.0f vs %,.0f per second), although it takes a lock for every put and take: the pipe's reader"
                    + " was woken more often per message in this run; run it again before drawing a conclusion.",
                    queueRate, pipeRate);
        };
    }

    static String pythonReading(double queueRate, double pipeRate, double pyQueueRate, double pyPipeRate) {
        return String.format(Locale.ROOT, "Python, measured in this run: multiprocessing.Queue %,.0f messages/s (ours"
                + " %s), Pipe %,.0f messages/s (ours %s).", pyQueueRate, relative(queueRate, pyQueueRate), pyPipeRate,
                relative(pipeRate, pyPipeRate));
    }

    /** @return "3.1x as many", "about as many" or "0.5x as many" */
    static String relative(double ours, double theirs) {
        return switch (Readings.of(ours / theirs)) {
            case SAME -> "about as many";
            case FASTER -> Readings.times(ours / theirs) + " as many";
            case SLOWER -> String.format(Locale.ROOT, "%.2fx as many", ours / theirs);
        };
    }

    private static void check(long sum, int n) {
        long expected = (long) n * (n - 1) / 2;
        if (sum != expected) {
            throw new IllegalStateException("messages were lost or changed: sum " + sum + ", expected " + expected);
        }
    }
}
