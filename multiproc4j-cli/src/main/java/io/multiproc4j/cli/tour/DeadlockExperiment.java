package io.multiproc4j.cli.tour;

import io.multiproc4j.Pool;
import io.multiproc4j.cli.report.Section;
import io.multiproc4j.cli.report.Table;
import io.multiproc4j.diagnostics.ProcessDeadlocks;
import io.multiproc4j.sync.ProcessBarrier;
import io.multiproc4j.sync.ProcessEvent;
import io.multiproc4j.sync.ProcessLock;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * A deadlock across processes: two worker processes take two {@link ProcessLock}s in opposite order
 * (each takes its first, both meet at a barrier, each asks for the other's). This process then reads
 * the wait-for graph of every process lock on the machine ({@link ProcessDeadlocks}, what
 * {@code multiproc deadlocks} prints) and shows the cycle. The workers wait with {@code tryLock} in
 * short slices and give up when the tour sets a {@link ProcessEvent}, so the demonstration ends.
 */
public final class DeadlockExperiment implements Experiment {

    @Override
    public String id() {
        return "deadlock";
    }

    @Override
    public String description() {
        return "two processes take two ProcessLocks in opposite order; the cross-process wait-for graph finds it";
    }

    /** Its figures are a wait-for graph, not speeds: the tour may start later sections' JVMs meanwhile. */
    @Override
    public boolean toleratesBackgroundStarts() {
        return true;
    }

    @Override
    public int steps(TourContext ctx) {
        return 1;
    }

    @Override
    public Section run(TourContext ctx) throws Exception {
        Pool pool = ctx.processes(2);
        List<ProcessDeadlocks.Cycle> found = List.of();
        double detectMs;
        List<String> outcome;
        try (ProcessLock a = ProcessLock.create(); ProcessLock b = ProcessLock.create();
             ProcessBarrier bothHoldOne = ProcessBarrier.create(2); ProcessEvent giveUp = ProcessEvent.create()) {
            CompletableFuture<List<String>> tasks = pool.mapAsync((Integer w) -> {
                ProcessLock first = w == 0 ? a : b;
                ProcessLock second = w == 0 ? b : a;
                first.lock();
                try {
                    bothHoldOne.await(Duration.ofSeconds(30));
                    // wait in slices, so that the tour can end the deadlock it made
                    while (!second.tryLock(200, TimeUnit.MILLISECONDS)) {
                        if (giveUp.isSet()) {
                            return "process " + ProcessHandle.current().pid() + " gave up waiting for " + second.name();
                        }
                    }
                    second.unlock();
                    return "process " + ProcessHandle.current().pid() + " got both locks";
                } catch (Exception e) {
                    throw new IllegalStateException("the deadlock demonstration could not run: " + e, e);
                } finally {
                    first.unlock();
                }
            }, List.of(0, 1), 1);
            long t0 = System.nanoTime();
            long deadline = t0 + TimeUnit.SECONDS.toNanos(20);
            List<String> ours = List.of(a.name(), b.name());
            while (System.nanoTime() < deadline && !tasks.isDone()) {
                found = ProcessDeadlocks.find().stream()
                        .filter(c -> c.edges().stream().allMatch(e -> ours.contains(e.lock()))).toList();
                if (!found.isEmpty()) {
                    break;
                }
                try {
                    tasks.get(5, TimeUnit.MILLISECONDS); // look again in 5 ms, or stop when the tasks ended
                } catch (java.util.concurrent.TimeoutException stillWaiting) {
                    // the expected case while the deadlock lasts
                }
            }
            detectMs = (System.nanoTime() - t0) / 1e6;
            giveUp.set();
            outcome = tasks.get(60, TimeUnit.SECONDS);
        }
        ctx.progress().step("deadlock: found");
        Table table = new Table("thread", "holds", "waits for", "held by");
        String reading;
        if (!found.isEmpty()) {
            ProcessDeadlocks.Cycle cycle = found.getFirst();
            for (int i = 0; i < cycle.edges().size(); i++) {
                ProcessDeadlocks.Edge e = cycle.edges().get(i);
                ProcessDeadlocks.Edge before = cycle.edges().get((i + cycle.edges().size() - 1) % cycle.edges().size());
                table.row(e.waiter().toString(), before.lock(), e.lock(), e.holder().toString());
            }
            reading = interpret(cycle.pids().size(), cycle.edges().size(), detectMs)
                    + "\n" + cycle.describe().strip().replace("\n  ", " ")
                    + "\nThen the tour set a ProcessEvent that tells the tasks to give up waiting: " + String.join("; ", outcome) + ".";
        } else {
            table.row("-", "-", "-", "-");
            reading = String.format(Locale.ROOT, "No cycle was seen within %.0f ms (%s): the two tasks did not hold"
                    + " their first locks at the same time, so there was no deadlock to find in this run.", detectMs,
                    outcome == null ? "no outcome" : String.join("; ", outcome));
        }
        return new Section(id(), "A deadlock across two processes, found by the wait-for graph", table, reading, null);
    }

    /**
     * @return what finding the cycle means
     */
    static String interpret(int processes, int threads, double detectMs) {
        return String.format(Locale.ROOT, "The wait-for graph of the machine's process locks has a cycle through %d"
                + " threads in %d processes, found %.0f ms after the tasks started: each holds one lock and waits for"
                + " the other's. The JDK's detector (jcmd Thread.print, ThreadMXBean) looks inside one JVM and sees two"
                + " unrelated waiting threads; `multiproc deadlocks` reads the holders and waiters that every"
                + " ProcessLock records in shared memory and prints this. Take locks in one global order, or with a"
                + " timeout.", threads, processes, detectMs);
    }
}
