package io.multiproc4j.cli.tour;

import io.multiproc4j.Pool;
import io.multiproc4j.cli.report.Chart;
import io.multiproc4j.cli.report.Section;
import io.multiproc4j.cli.report.Table;
import io.multiproc4j.shared.SharedLong;
import io.multiproc4j.shared.SharedLongArray;
import io.multiproc4j.sync.ProcessBarrier;
import io.multiproc4j.sync.ProcessLock;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The talk's shared-counter race: two worker processes add 1 to one counter in shared memory many
 * times, unsynchronized (a plain read, then a plain write), under a {@link ProcessLock}, and with an
 * atomic add.
 *
 * <p>The race only shows when the two loops really run at the same time, so both tasks wait at a
 * {@link ProcessBarrier} and start together, and each loop counts the iterations during which the
 * other loop was running too (each publishes its progress in a shared array and reads the other's).
 * The reading then says how many updates were lost and, when none were, whether that is because the
 * loops did not overlap or because no two reads fell into the same few-nanosecond window.
 */
public final class SharedCounterExperiment implements Experiment {
    private static final int WORKERS = 2;

    /** The three ways to add one. */
    enum Variant { PLAIN, LOCKED, ATOMIC }

    /**
     * One variant's outcome.
     * @param finalValue   the counter at the end
     * @param overlapShare the share of iterations (both loops together) during which the other loop ran too
     * @param loopMs       the longer of the two loops' times
     */
    record Outcome(long finalValue, double overlapShare, double loopMs) {}

    @Override
    public String id() {
        return "shared-counter";
    }

    @Override
    public String description() {
        return "two processes add 1 to a shared counter: unsynchronized loses updates, a lock is exact, atomic is fast";
    }

    @Override
    public int steps(TourContext ctx) {
        return 3;
    }

    private static int increments(TourContext ctx) {
        return ctx.size(400_000, 200_000, 5_000);
    }

    @Override
    public Map<String, Object> pythonParams(TourContext ctx) {
        return Map.of("k", increments(ctx) / 4);
    }

    @Override
    public List<String> pythonKeys() {
        return List.of("k", "plain_final", "plain_ms", "locked_final", "locked_ms");
    }

    @Override
    public Section run(TourContext ctx) throws Exception {
        int k = increments(ctx);
        long expected = (long) WORKERS * k;
        Pool pool = ctx.processes(WORKERS);
        Outcome[] outcomes = new Outcome[3];
        String[] labels = {"unsynchronized", "locked", "atomic"};
        for (Variant v : Variant.values()) {
            outcomes[v.ordinal()] = race(pool, v, k);
            ctx.progress().step("shared counter: " + labels[v.ordinal()]);
        }
        Table table = new Table("counter", "expected", "final value", "lost updates", "loops overlapped",
                "time ms", "ns per increment");
        String[] names = {"unsynchronized get/set", "ProcessLock around get/set", "atomic incrementAndGet"};
        double[] times = new double[3];
        for (int i = 0; i < 3; i++) {
            Outcome o = outcomes[i];
            times[i] = o.loopMs();
            table.row(names[i], expected, o.finalValue(), expected - o.finalValue(),
                    String.format(Locale.ROOT, "%.0f %%", o.overlapShare() * 100), o.loopMs(),
                    o.loopMs() * 1e6 / k);
        }
        String reading = interpretRace(expected, outcomes[0].finalValue(), outcomes[0].overlapShare())
                + " " + interpretSync(expected, outcomes[1], outcomes[2]);
        Chart chart = Chart.bars(String.format(Locale.ROOT, "Shared counter: 2 processes x %,d increments, time of"
                + " the loops", k), "time ms", "unsynchronized", "ProcessLock", "atomic").bar("Java", times);
        PythonFigures py = ctx.python();
        if (py.has(id())) {
            long pk = py.get(id(), "k").longValue();
            long pyExpected = 2 * pk;
            long pyPlain = py.get(id(), "plain_final").longValue();
            long pyLocked = py.get(id(), "locked_final").longValue();
            table.row(String.format(Locale.ROOT, "Python: Value(lock=False), v.value += 1 (%,d each)", pk), pyExpected,
                    pyPlain, pyExpected - pyPlain, null, py.get(id(), "plain_ms"), py.get(id(), "plain_ms") * 1e6 / pk);
            table.row(String.format(Locale.ROOT, "Python: with v.get_lock() (%,d each)", pk), pyExpected, pyLocked,
                    pyExpected - pyLocked, null, py.get(id(), "locked_ms"), py.get(id(), "locked_ms") * 1e6 / pk);
            reading += "\n" + String.format(Locale.ROOT, "Python, same race with %,d increments per process: %s; its"
                    + " locked counter takes %.0f ns per increment, ours %.0f; Python has no atomic add on shared"
                    + " memory, so a lock is its only exact way.", pk,
                    pyPlain == pyExpected ? "no update lost" : String.format(Locale.ROOT, "%,d of %,d updates lost",
                            pyExpected - pyPlain, pyExpected),
                    py.get(id(), "locked_ms") * 1e6 / pk, outcomes[1].loopMs() * 1e6 / k);
            chart = Chart.bars(String.format(Locale.ROOT, "Shared counter: ns per increment (2 processes)"),
                    "ns per increment", "unsynchronized", "ProcessLock / get_lock()", "atomic")
                    .bar("Java", outcomes[0].loopMs() * 1e6 / k, outcomes[1].loopMs() * 1e6 / k,
                            outcomes[2].loopMs() * 1e6 / k)
                    .bar("Python", py.get(id(), "plain_ms") * 1e6 / pk, py.get(id(), "locked_ms") * 1e6 / pk, Double.NaN);
        } else {
            reading += "\n" + py.note(id()) + ".";
        }
        return new Section(id(), String.format(Locale.ROOT, "Shared counter: %d processes × %,d increments", WORKERS, k),
                table, reading, chart);
    }

    /**
     * Runs one variant: both workers wait at a barrier, then each adds 1 {@code k} times.
     */
    static Outcome race(Pool pool, Variant variant, int k) throws Exception {
        try (SharedLong counter = variant == Variant.ATOMIC ? SharedLong.create(0) : SharedLong.createUnsynchronized(0);
             SharedLongArray progress = SharedLongArray.create(WORKERS);
             ProcessLock lock = ProcessLock.create();
             ProcessBarrier start = ProcessBarrier.create(WORKERS)) {
            List<long[]> perWorker = pool.map((Integer w) -> {
                try {
                    start.await(Duration.ofSeconds(30)); // both loops begin together, or the race cannot show
                } catch (Exception e) {
                    throw new IllegalStateException("the two counter tasks did not run at the same time: " + e, e);
                }
                long overlapped = 0;
                long t0 = System.nanoTime();
                for (int i = 0; i < k; i++) {
                    switch (variant) {
                        case PLAIN -> counter.set(counter.get() + 1); // another process may write in between
                        case LOCKED -> {
                            lock.lock();
                            try {
                                counter.set(counter.get() + 1);
                            } finally {
                                lock.unlock();
                            }
                        }
                        case ATOMIC -> counter.incrementAndGet();
                    }
                    progress.set(w, i + 1);
                    long other = progress.get(1 - w);
                    if (other > 0 && other < k) {
                        overlapped++;
                    }
                }
                return new long[] {overlapped, System.nanoTime() - t0};
            }, List.of(0, 1), 1);
            long overlapped = perWorker.get(0)[0] + perWorker.get(1)[0];
            double ms = Math.max(perWorker.get(0)[1], perWorker.get(1)[1]) / 1e6;
            return new Outcome(counter.get(), overlapped / (2.0 * k), ms);
        }
    }

    /**
     * @param expected     the updates made
     * @param plainFinal   the unsynchronized counter's final value
     * @param overlapShare how much the two loops overlapped
     * @return what the unsynchronized run shows
     */
    static String interpretRace(long expected, long plainFinal, double overlapShare) {
        long lost = expected - plainFinal;
        if (lost > 0) {
            return String.format(Locale.ROOT, "Without synchronization %,d of %,d updates were lost (%.1f %%), with the"
                    + " loops overlapping for %.0f %% of their iterations: both processes read the same value and both"
                    + " wrote it plus one, so one of the two additions vanished.", lost, expected,
                    100.0 * lost / expected, overlapShare * 100);
        }
        if (overlapShare == 0) {
            return String.format(Locale.ROOT, "Without synchronization no update was lost this time, but that proves"
                    + " nothing: although both loops started together at a barrier, they never ran at the same time"
                    + " (the machine gave the second process a core only after the first had finished), and a race"
                    + " needs two processes between the read and the write at once. Run it again on a quieter machine.");
        }
        return String.format(Locale.ROOT, "Without synchronization no update was lost this time, although the loops"
                + " overlapped for %.0f %% of their iterations: a lost update needs the other process to write between"
                + " this one's read and its write, a window of a few nanoseconds, and it did not happen in this run."
                + " It is still a race: nothing prevents it, and on other runs it loses updates.", overlapShare * 100);
    }

    /**
     * @return what the locked and atomic runs show
     */
    static String interpretSync(long expected, Outcome locked, Outcome atomic) {
        StringBuilder b = new StringBuilder();
        if (locked.finalValue() == expected && atomic.finalValue() == expected) {
            b.append("The lock and the atomic add both kept the count exact");
        } else {
            b.append(String.format(Locale.ROOT, "The lock kept %,d and the atomic add %,d of %,d updates (anything"
                    + " less than all is a defect: please report it)", locked.finalValue(), atomic.finalValue(), expected));
        }
        double ratio = locked.loopMs() / Math.max(atomic.loopMs(), 1e-6);
        switch (Readings.of(ratio)) {
            case FASTER -> b.append(String.format(Locale.ROOT, "; the atomic add was %s faster than taking the lock"
                    + " for every increment, because the CPU does the read-modify-write as one instruction on the"
                    + " shared cache line, while the lock is a read-modify-write of its own plus the update.",
                    Readings.times(ratio)));
            case SAME -> b.append(String.format(Locale.ROOT, "; the atomic add and the lock took about the same time"
                    + " here (%.0f vs %.0f ms), so the cost of each was dominated by the cache line bouncing between"
                    + " the two cores, which both pay.", atomic.loopMs(), locked.loopMs()));
            case SLOWER -> b.append(String.format(Locale.ROOT, "; surprisingly the lock was faster than the atomic add"
                    + " (%.0f vs %.0f ms): when the lock is held for long stretches by one process, that process updates"
                    + " the counter in its own cache while the other sleeps, whereas atomic adds from both cores bounce"
                    + " the line on every increment.", locked.loopMs(), atomic.loopMs()));
        }
        return b.toString();
    }
}
