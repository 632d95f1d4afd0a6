package io.multiproc4j.cli.tour;

import io.multiproc4j.Pool;
import io.multiproc4j.cli.report.Chart;
import io.multiproc4j.cli.report.Section;
import io.multiproc4j.cli.report.Table;
import io.multiproc4j.shared.SharedLong;
import io.multiproc4j.sync.ProcessLock;
import java.util.List;
import java.util.Locale;

/**
 * The talk's shared-counter race: two worker processes add 1 to one counter in shared memory many
 * times. A plain read-then-write loses updates (both read the same value, both write value + 1); a
 * lock makes it exact but serial; an atomic add is exact and fast.
 */
public final class SharedCounterExperiment implements Experiment {
    private static final int WORKERS = 2;

    @Override
    public String id() {
        return "shared-counter";
    }

    @Override
    public int steps(TourContext ctx) {
        return 3;
    }

    private static int increments(TourContext ctx) {
        return switch (ctx.mode().name()) {
            case "full" -> 100_000;
            case "quick" -> 50_000;
            default -> 2_000;
        };
    }

    @Override
    public Section run(TourContext ctx) {
        int k = increments(ctx);
        long expected = (long) WORKERS * k;
        Pool pool = ctx.processes(WORKERS);
        List<Integer> perWorker = List.of(k, k);
        Table table = new Table("counter", "expected", "final value", "lost updates", "time ms");
        double[] times = new double[3];
        long[] finals = new long[3];

        try (SharedLong plain = SharedLong.createUnsynchronized(0)) {
            long t0 = System.nanoTime();
            pool.map((Integer n) -> {
                for (int i = 0; i < n; i++) {
                    plain.set(plain.get() + 1); // read, then write: another process may write in between
                }
                return null;
            }, perWorker, 1);
            times[0] = (System.nanoTime() - t0) / 1e6;
            finals[0] = plain.get();
        }
        ctx.progress().step("shared counter: unsynchronized");

        try (SharedLong guarded = SharedLong.createUnsynchronized(0); ProcessLock lock = ProcessLock.create()) {
            long t0 = System.nanoTime();
            pool.map((Integer n) -> {
                for (int i = 0; i < n; i++) {
                    lock.lock();
                    try {
                        guarded.set(guarded.get() + 1);
                    } finally {
                        lock.unlock();
                    }
                }
                return null;
            }, perWorker, 1);
            times[1] = (System.nanoTime() - t0) / 1e6;
            finals[1] = guarded.get();
        }
        ctx.progress().step("shared counter: locked");

        try (SharedLong atomic = SharedLong.create(0)) {
            long t0 = System.nanoTime();
            pool.map((Integer n) -> {
                for (int i = 0; i < n; i++) {
                    atomic.incrementAndGet();
                }
                return null;
            }, perWorker, 1);
            times[2] = (System.nanoTime() - t0) / 1e6;
            finals[2] = atomic.get();
        }
        ctx.progress().step("shared counter: atomic");

        String[] names = {"unsynchronized get/set", "ProcessLock around get/set", "atomic incrementAndGet"};
        for (int i = 0; i < 3; i++) {
            table.row(names[i], expected, finals[i], expected - finals[i], times[i]);
        }
        String reading = String.format(Locale.ROOT, "Without synchronization %d of %d updates were lost (%.1f %%): both"
                        + " processes read the same value and both wrote it plus one. The lock made the count exact but"
                        + " serial (%.0f ms); the atomic add is exact and %.0f times faster than the lock, because the"
                        + " CPU does the read-modify-write as one step on the shared cache line.",
                expected - finals[0], expected, 100.0 * (expected - finals[0]) / expected, times[1],
                times[1] / Math.max(times[2], 0.001));
        Chart chart = new Chart("Shared counter: 2 processes, " + k + " increments each", "variant (1 plain, 2 locked, 3 atomic)",
                "time ms").series("time", new double[] {1, 2, 3}, times, true);
        return new Section(id(), String.format(Locale.ROOT, "Shared counter: %d processes × %d increments", WORKERS, k),
                table, reading, chart);
    }
}
