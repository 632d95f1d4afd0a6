package io.multiproc4j.internal.engine;

import io.multiproc4j.PoolStats;
import io.multiproc4j.internal.supervise.ExitCause;
import io.multiproc4j.internal.supervise.Supervisor;
import io.multiproc4j.internal.supervise.WorkerProcess;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;

/**
 * The counts behind {@link PoolStats}, and the JFR events of the process engine (see
 * {@link EngineEvents}): each count and its event are recorded at the same point.
 */
final class EngineCounters {
    private final LongAdder workersStarted = new LongAdder();
    private final Map<ExitCause, LongAdder> exits = new EnumMap<>(ExitCause.class);
    private final LongAdder recycled = new LongAdder();
    private final LongAdder batchesDone = new LongAdder();
    private final LongAdder tasksDone = new LongAdder();
    private final LongAdder tasksFailed = new LongAdder();
    private final LongAdder retried = new LongAdder();
    private final LongAdder recalled = new LongAdder();

    EngineCounters() {
        for (ExitCause cause : ExitCause.values()) {
            exits.put(cause, new LongAdder());
        }
    }

    void workerStarted(WorkerProcess worker) {
        workersStarted.increment();
        var event = new EngineEvents.WorkerStart();
        if (event.shouldCommit()) {
            event.worker = worker.name();
            event.pid = worker.pid();
            event.commit();
        }
    }

    void workerExited(WorkerProcess worker, Supervisor.Exit exit) {
        exits.get(exit.cause()).increment();
        var event = new EngineEvents.WorkerExit();
        if (event.shouldCommit()) {
            event.worker = worker.name();
            event.pid = worker.pid();
            event.cause = exit.cause().name();
            event.exitCode = exit.exitCode();
            event.commit();
        }
    }

    void recycled(WorkerProcess worker, ExitCause why) {
        recycled.increment();
        var event = new EngineEvents.WorkerRecycle();
        if (event.shouldCommit()) {
            event.worker = worker.name();
            event.pid = worker.pid();
            event.reason = why.name();
            event.commit();
        }
    }

    void batchSent(WorkerProcess worker, int tasks) {
        var event = new EngineEvents.BatchSent();
        if (event.shouldCommit()) {
            event.worker = worker.name();
            event.tasks = tasks;
            event.commit();
        }
    }

    void tasksDelivered(int tasks) {
        tasksDone.add(tasks);
    }

    void batchDone(WorkerProcess worker, Dispatch d, boolean failed) {
        batchesDone.increment();
        if (failed) {
            tasksFailed.increment();
        }
        var event = new EngineEvents.BatchDone();
        if (event.shouldCommit()) {
            event.worker = worker.name();
            event.firstIndex = d.batch.firstIndex() + d.base;
            event.tasks = d.inputs.size();
            event.failed = failed;
            event.commit();
        }
    }

    void crashed(WorkerProcess worker, Dispatch head) {
        batchesDone.increment();
        tasksFailed.increment();
        var event = new EngineEvents.WorkerCrash();
        if (event.shouldCommit()) {
            event.worker = worker.name();
            event.pid = worker.pid();
            event.firstIndex = head.batch.firstIndex() + head.base + head.done;
            event.commit();
        }
    }

    void retried() {
        retried.increment();
    }

    void recalled() {
        recalled.increment();
    }

    /** @return batches taken back from a busy worker for an idle one */
    long recalledCount() {
        return recalled.sum();
    }

    PoolStats snapshot() {
        Map<String, Long> byCause = new LinkedHashMap<>();
        exits.forEach((cause, count) -> {
            long n = count.sum();
            if (n > 0) {
                byCause.put(cause.name(), n);
            }
        });
        return new PoolStats(workersStarted.sum(), byCause, recycled.sum(), batchesDone.sum(), tasksDone.sum(),
                tasksFailed.sum(), retried.sum());
    }
}
