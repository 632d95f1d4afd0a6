package io.multiproc4j.cli.tour;

import io.multiproc4j.Pool;
import io.multiproc4j.SerializableFunction;
import io.multiproc4j.cli.report.Chart;
import io.multiproc4j.cli.report.Section;
import io.multiproc4j.cli.report.Table;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code map} vs {@code imap} vs {@code imapUnordered} with uneven task times: a dozen tasks on two
 * worker processes, one of them (the third) ten times as long as the others; each task waits its time
 * (a stand-in for work whose length varies). Measured: when the caller has the first result, half of
 * them, and the last. {@code map} hands over everything at the end; {@code imap} hands results over in
 * order, so the slow task holds back every result after it; {@code imapUnordered} hands each over as it
 * is done.
 */
public final class MapImapExperiment implements Experiment {
    static final int TASKS = 12;
    static final int SLOW_INDEX = 2;

    @Override
    public String id() {
        return "map-imap";
    }

    @Override
    public String description() {
        return "map vs imap vs imapUnordered: time to the first, half and last result with uneven tasks";
    }

    private static int slowMs(TourContext ctx) {
        return ctx.size(600, 400, 100);
    }

    @Override
    public int steps(TourContext ctx) {
        return 3;
    }

    @Override
    public Map<String, Object> pythonParams(TourContext ctx) {
        return Map.of("tasks", TASKS, "slow_index", SLOW_INDEX, "slow_ms", slowMs(ctx));
    }

    @Override
    public List<String> pythonKeys() {
        return List.of("map_first_ms", "map_half_ms", "map_last_ms", "imap_first_ms", "imap_half_ms", "imap_last_ms",
                "unordered_first_ms", "unordered_half_ms", "unordered_last_ms");
    }

    static List<Integer> durations(int slowMs) {
        List<Integer> d = new ArrayList<>();
        for (int i = 0; i < TASKS; i++) {
            d.add(i == SLOW_INDEX ? slowMs : slowMs / 10);
        }
        return d;
    }

    @Override
    public Section run(TourContext ctx) throws Exception {
        int slow = slowMs(ctx);
        Pool pool = ctx.processes(2);
        List<Integer> tasks = durations(slow);
        SerializableFunction<Integer, Integer> wait = ms -> {
            try {
                Thread.sleep(ms); // the task's uneven length
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return ms;
        };
        double[][] t = new double[3][];
        long t0 = System.nanoTime();
        List<Integer> all = pool.map(wait, tasks, 1);
        double mapMs = (System.nanoTime() - t0) / 1e6;
        if (all.size() != TASKS) {
            throw new IllegalStateException("map returned " + all.size() + " results for " + TASKS + " tasks");
        }
        t[0] = new double[] {mapMs, mapMs, mapMs};
        ctx.progress().step("map");
        t[1] = firstHalfLast(pool.imap(wait, tasks, 1));
        ctx.progress().step("imap");
        t[2] = firstHalfLast(pool.imapUnordered(wait, tasks, 1));
        ctx.progress().step("imapUnordered");
        Table table = new Table("call", "first result ms", "half the results ms", "last result ms");
        String[] names = {"pool.map", "pool.imap", "pool.imapUnordered"};
        for (int i = 0; i < 3; i++) {
            table.row(names[i], t[i][0], t[i][1], t[i][2]);
        }
        String reading = interpret(t[0], t[1], t[2], slow);
        Chart chart = Chart.bars(String.format(Locale.ROOT, "%d tasks on 2 processes, task %d takes %d ms, the others %d ms:"
                        + " when results arrive", TASKS, SLOW_INDEX, slow, slow / 10), "ms since the call",
                "map", "imap", "imapUnordered")
                .bar("first result", t[0][0], t[1][0], t[2][0])
                .bar("half the results", t[0][1], t[1][1], t[2][1])
                .bar("last result", t[0][2], t[1][2], t[2][2]);
        PythonFigures py = ctx.python();
        if (py.has(id())) {
            String[] keys = {"map", "imap", "unordered"};
            String[] pyNames = {"Python: Pool.map", "Python: Pool.imap", "Python: Pool.imap_unordered"};
            double[] firsts = new double[3];
            for (int i = 0; i < 3; i++) {
                firsts[i] = py.get(id(), keys[i] + "_first_ms");
                table.row(pyNames[i], firsts[i], py.get(id(), keys[i] + "_half_ms"), py.get(id(), keys[i] + "_last_ms"));
            }
            reading += "\n" + String.format(Locale.ROOT, "Python's Pool, same tasks, had its first result after %.0f"
                    + " (map), %.0f (imap) and %.0f ms (imap_unordered): %s.", firsts[0], firsts[1], firsts[2],
                    firsts[2] < firsts[0] / 2 ? "the same order of events, since it is the calls' contract and not the"
                            + " language that decides it" : "not the pattern ours shows; look at its table rows");
        } else {
            reading += "\n" + py.note(id()) + ".";
        }
        return new Section(id(), String.format(Locale.ROOT, "map vs imap vs imapUnordered: %d uneven tasks on 2 processes",
                TASKS), table, reading, chart);
    }

    private static double[] firstHalfLast(Iterator<Integer> results) {
        long t0 = System.nanoTime();
        double first = 0;
        double half = 0;
        int count = 0;
        while (results.hasNext()) {
            results.next();
            count++;
            double at = (System.nanoTime() - t0) / 1e6;
            if (count == 1) {
                first = at;
            }
            if (count == TASKS / 2) {
                half = at;
            }
        }
        if (count != TASKS) {
            throw new IllegalStateException("got " + count + " results for " + TASKS + " tasks");
        }
        return new double[] {first, half, (System.nanoTime() - t0) / 1e6};
    }

    /**
     * @param map       first, half, last of map
     * @param imap      of imap
     * @param unordered of imapUnordered
     * @param slowMs    the slow task's time
     * @return what the three calls' timings say
     */
    static String interpret(double[] map, double[] imap, double[] unordered, int slowMs) {
        StringBuilder b = new StringBuilder();
        b.append(String.format(Locale.ROOT, "map gave nothing until everything was done (%.0f ms).", map[2]));
        boolean imapEarlyFirst = imap[0] < map[2] / 2;
        boolean imapHeldBack = imap[1] >= slowMs * 0.8;
        if (imapEarlyFirst && imapHeldBack) {
            b.append(String.format(Locale.ROOT, " imap gave its first result after %.0f ms, but half of them only"
                    + " after %.0f ms: results come in input order, so the slow task %d held back every result after"
                    + " it, done or not.", imap[0], imap[1], SLOW_INDEX));
        } else if (imapEarlyFirst) {
            b.append(String.format(Locale.ROOT, " imap gave its first result after %.0f ms and half of them after"
                    + " %.0f ms, earlier than the slow task's %d ms would allow in order: unexpected, look at the"
                    + " table.", imap[0], imap[1], slowMs));
        } else {
            b.append(String.format(Locale.ROOT, " imap's first result came only after %.0f ms, no better than map:"
                    + " the workers were slow to start the first tasks in this run.", imap[0]));
        }
        double gain = imap[1] / Math.max(unordered[1], 0.001);
        if (Readings.of(gain) == Readings.Outcome.FASTER) {
            b.append(String.format(Locale.ROOT, " imapUnordered gave half of them after %.0f ms (%s sooner than imap),"
                    + " each as soon as it was done; use it when order does not matter.", unordered[1],
                    Readings.times(gain)));
        } else {
            b.append(String.format(Locale.ROOT, " imapUnordered gave half of them after %.0f ms, no sooner than imap:"
                    + " in this run the short tasks did not overtake the slow one.", unordered[1]));
        }
        double lastMax = Math.max(map[2], Math.max(imap[2], unordered[2]));
        double lastMin = Math.min(map[2], Math.min(imap[2], unordered[2]));
        b.append(Readings.of(lastMax / lastMin) == Readings.Outcome.SAME
                ? String.format(Locale.ROOT, " All three had the last result at about the same time (%.0f, %.0f and"
                        + " %.0f ms): the calls decide when results arrive, not how fast the work is.", map[2], imap[2],
                        unordered[2])
                : String.format(Locale.ROOT, " The last results came at %.0f, %.0f and %.0f ms: the same work, so the"
                        + " difference is how the tasks happened to be spread over the two workers in each run.",
                        map[2], imap[2], unordered[2]));
        return b.toString();
    }
}
