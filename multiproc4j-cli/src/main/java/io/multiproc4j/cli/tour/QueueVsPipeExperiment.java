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
    public int steps(TourContext ctx) {
        return 2;
    }

    private static int messages(TourContext ctx) {
        return switch (ctx.mode().name()) {
            case "full" -> 200_000;
            case "quick" -> 100_000;
            default -> 2_000;
        };
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
        String reading = String.format(Locale.ROOT, "The pipe moved %,.0f messages/s and the queue %,.0f (%.1fx): a pipe"
                        + " has one writer and one reader, a queue takes a lock for every put and take so that any number"
                        + " of processes can share it. Python's Queue and Pipe move about 0.2-0.3 million small messages/s.",
                pipeRate, queueRate, pipeRate / queueRate);
        Chart chart = new Chart("Queue vs pipe: " + n + " small messages, 1 producer process", "channel (1 queue, 2 pipe)",
                "messages/s").series("messages/s", new double[] {1, 2}, new double[] {queueRate, pipeRate}, true);
        return new Section(id(), String.format(Locale.ROOT, "Queue vs pipe: %,d messages from a worker process", n),
                table, reading, chart);
    }

    private static void check(long sum, int n) {
        long expected = (long) n * (n - 1) / 2;
        if (sum != expected) {
            throw new IllegalStateException("messages were lost or changed: sum " + sum + ", expected " + expected);
        }
    }
}
