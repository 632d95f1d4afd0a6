package io.multiproc4j.internal.engine;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Event;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;

/**
 * The process engine's JFR events, so a recording shows the engine in JDK Mission Control (category
 * "multiproc4j"): worker start, exit (with its cause), recycle, batch sent, batch done, crash.
 * They cost nothing while no recording enables them.
 */
final class EngineEvents {
    private EngineEvents() {}

    /** A worker JVM was spawned. */
    @Name("io.multiproc4j.WorkerStart")
    @Label("Worker Start")
    @Category("multiproc4j")
    @StackTrace(false)
    static final class WorkerStart extends Event {
        @Label("Worker")
        String worker;
        @Label("PID")
        long pid;
    }

    /** A worker JVM exited. */
    @Name("io.multiproc4j.WorkerExit")
    @Label("Worker Exit")
    @Category("multiproc4j")
    @StackTrace(false)
    static final class WorkerExit extends Event {
        @Label("Worker")
        String worker;
        @Label("PID")
        long pid;
        @Label("Cause")
        @Description("why it exited: SHUTDOWN, RECYCLED, CRASHED, TASK_TIMEOUT, ...")
        String cause;
        @Label("Exit Code")
        int exitCode;
    }

    /** A worker was retired to be replaced (maxTasksPerChild, memory limit). */
    @Name("io.multiproc4j.WorkerRecycle")
    @Label("Worker Recycle")
    @Category("multiproc4j")
    @StackTrace(false)
    static final class WorkerRecycle extends Event {
        @Label("Worker")
        String worker;
        @Label("PID")
        long pid;
        @Label("Reason")
        String reason;
    }

    /** A batch was queued to a worker. */
    @Name("io.multiproc4j.BatchSent")
    @Label("Batch Sent")
    @Category("multiproc4j")
    @StackTrace(false)
    static final class BatchSent extends Event {
        @Label("Worker")
        String worker;
        @Label("Tasks")
        int tasks;
    }

    /** A batch ended on a worker: all results, or a failure. */
    @Name("io.multiproc4j.BatchDone")
    @Label("Batch Done")
    @Category("multiproc4j")
    @StackTrace(false)
    static final class BatchDone extends Event {
        @Label("Worker")
        String worker;
        @Label("First Index")
        long firstIndex;
        @Label("Tasks")
        int tasks;
        @Label("Failed")
        boolean failed;
    }

    /** A worker died while running a batch, which failed with WorkerCrashedException. */
    @Name("io.multiproc4j.WorkerCrash")
    @Label("Worker Crash")
    @Category("multiproc4j")
    @StackTrace(false)
    static final class WorkerCrash extends Event {
        @Label("Worker")
        String worker;
        @Label("PID")
        long pid;
        @Label("First Index")
        long firstIndex;
    }
}
