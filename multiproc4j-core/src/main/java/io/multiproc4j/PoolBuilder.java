package io.multiproc4j;

import io.multiproc4j.internal.engine.ProcessEngine;
import io.multiproc4j.internal.engine.ProcessEngine.Options;
import io.multiproc4j.internal.engine.ThreadEngine;
import io.multiproc4j.internal.sched.EngineExecutor;
import io.multiproc4j.internal.sched.ScheduledPool;
import io.multiproc4j.spi.Codec;
import io.multiproc4j.spi.Engine;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Options for a {@link Pool}. Each setter checks its argument at once and says what was wrong.
 *
 * {@snippet :
 * Pool pool = Pool.builder()
 *         .processes(4)
 *         .maxTasksPerChild(100)                // recycle a worker after 100 tasks
 *         .maxMemoryPerChild(512L << 20)        // recycle a worker past this resident size
 *         .taskTimeout(Duration.ofSeconds(30))  // a task past this is killed with its worker
 *         .retries(2)                           // re-run tasks whose worker died (idempotent work only)
 *         .initializer(() -> warmUp())          // runs once in each worker before its first task
 *         .jvmOptions("-Xmx1g")                 // options for worker JVMs
 *         .build();
 * }
 */
public final class PoolBuilder {
    private enum Kind { THREADS, VIRTUAL_THREADS, PROCESSES }

    private Kind kind = Kind.PROCESSES;
    private int workers = Pool.defaultWorkers();
    private int maxTasksPerChild;
    private long maxMemoryPerChild;
    private Duration taskTimeout;
    private int retries;
    private SerializableRunnable initializer;
    private final List<String> jvmOptions = new ArrayList<>();
    private WorkerOutput workerOutput = WorkerOutput.PREFIXED;
    private Duration startTimeout = Duration.ofSeconds(60);
    private Codec codec = Codec.standard();
    private Engine engine;
    private Duration idleWorkerTimeout;
    private CrashPolicy crashPolicy = CrashPolicy.FAIL_AFFECTED_TASKS;

    PoolBuilder() {}

    /**
     * Runs tasks on platform threads of this JVM.
     *
     * @param threads how many, at least 1
     * @return this builder
     */
    public PoolBuilder threads(int threads) {
        this.workers = positive("threads", threads);
        this.kind = Kind.THREADS;
        return this;
    }

    /**
     * Runs each chunk on its own virtual thread of this JVM, with no bound: for blocking I/O.
     *
     * @return this builder
     */
    public PoolBuilder virtualThreads() {
        this.kind = Kind.VIRTUAL_THREADS;
        return this;
    }

    /**
     * Runs tasks on worker JVMs (the default, with one per processor).
     *
     * @param processes how many worker JVMs, at least 1
     * @return this builder
     */
    public PoolBuilder processes(int processes) {
        this.workers = positive("processes", processes);
        this.kind = Kind.PROCESSES;
        return this;
    }

    /**
     * Replaces a worker JVM after it has run this many tasks (checked between chunks: with chunk
     * size 1 it is exact).
     *
     * @param tasks at least 1; 0 (the default) means never
     * @return this builder
     */
    public PoolBuilder maxTasksPerChild(int tasks) {
        this.maxTasksPerChild = notNegative("maxTasksPerChild", tasks);
        return this;
    }

    /**
     * Replaces a worker JVM whose resident set size, read from the OS after each chunk, is above this.
     *
     * @param bytes at least 1; 0 (the default) means never
     * @return this builder
     */
    public PoolBuilder maxMemoryPerChild(long bytes) {
        if (bytes < 0) {
            throw new IllegalArgumentException("maxMemoryPerChild must be >= 0 bytes (0 = no limit), was " + bytes);
        }
        this.maxMemoryPerChild = bytes;
        return this;
    }

    /**
     * Kills a worker JVM whose task runs longer than this; the task fails with
     * {@link TaskTimeoutException} and the worker is replaced.
     *
     * @param timeout positive
     * @return this builder
     */
    public PoolBuilder taskTimeout(Duration timeout) {
        Objects.requireNonNull(timeout, "taskTimeout");
        if (timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("taskTimeout must be positive, was " + timeout);
        }
        this.taskTimeout = timeout;
        return this;
    }

    /**
     * Re-runs a chunk whose worker died up to this many times before failing it. Only for
     * idempotent work: the chunk may have had effects before the worker died. Timeouts are not retried.
     *
     * @param retries at least 0 (the default)
     * @return this builder
     */
    public PoolBuilder retries(int retries) {
        this.retries = notNegative("retries", retries);
        return this;
    }

    /**
     * Code that runs once in each worker before its first task. If it throws, the pool is broken and
     * every call fails with a {@link BrokenPoolException} naming the initializer's error (wrap checked
     * exceptions in an unchecked one).
     *
     * @param initializer the code
     * @return this builder
     */
    public PoolBuilder initializer(SerializableRunnable initializer) {
        this.initializer = Objects.requireNonNull(initializer, "initializer");
        return this;
    }

    /**
     * Options for worker JVMs, after (so overriding) the defaults, which make a small and quick
     * worker: {@code -XX:+UseSerialGC -XX:+ExitOnOutOfMemoryError -XX:+DisplayVMOutputToStderr
     * -XX:-UsePerfData -Xss512k -XX:ReservedCodeCacheSize=64m --enable-native-access=ALL-UNNAMED}.
     * {@code ExitOnOutOfMemoryError} and {@code DisplayVMOutputToStderr} let the pool tell that a worker died
     * of {@code OutOfMemoryError} (its stderr tail says so).
     *
     * @param options such as {@code -Xmx1g}
     * @return this builder
     */
    public PoolBuilder jvmOptions(String... options) {
        for (String option : options) {
            Objects.requireNonNull(option, "jvmOptions element");
            if (option.isBlank()) {
                throw new IllegalArgumentException("jvmOptions must not contain blank options");
            }
            jvmOptions.add(option);
        }
        return this;
    }

    /**
     * @param output what to do with worker JVMs' standard output and error
     * @return this builder
     */
    public PoolBuilder workerOutput(WorkerOutput output) {
        this.workerOutput = Objects.requireNonNull(output, "workerOutput");
        return this;
    }

    /**
     * @param timeout how long a worker JVM may take to start and run its initializer
     * @return this builder
     */
    public PoolBuilder startTimeout(Duration timeout) {
        Objects.requireNonNull(timeout, "startTimeout");
        if (timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("startTimeout must be positive, was " + timeout);
        }
        this.startTimeout = timeout;
        return this;
    }

    /**
     * @param codec how tasks and results are (de)serialized for worker JVMs; it must have a public
     *     no-argument constructor, since workers create their own
     * @return this builder
     */
    public PoolBuilder codec(Codec codec) {
        this.codec = Objects.requireNonNull(codec, "codec");
        return this;
    }

    /**
     * Runs the pool on an engine of your own (the {@link Engine} SPI), ignoring the other options.
     *
     * @param engine the engine
     * @return this builder
     */
    public PoolBuilder engine(Engine engine) {
        this.engine = Objects.requireNonNull(engine, "engine");
        return this;
    }

    /**
     * For executors ({@link #buildExecutor()}): retires a worker JVM idle this long; another starts
     * when work comes. Without it, idle workers stay, as in Python.
     *
     * @param timeout positive
     * @return this builder
     */
    public PoolBuilder idleWorkerTimeout(Duration timeout) {
        Objects.requireNonNull(timeout, "idleWorkerTimeout");
        if (timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("idleWorkerTimeout must be positive, was " + timeout);
        }
        this.idleWorkerTimeout = timeout;
        return this;
    }

    /**
     * For executors ({@link #buildExecutor()}): what a worker that dies abruptly does to the other
     * tasks.
     *
     * @param policy the policy; {@link CrashPolicy#FAIL_AFFECTED_TASKS} by default
     * @return this builder
     */
    public PoolBuilder crashPolicy(CrashPolicy policy) {
        this.crashPolicy = Objects.requireNonNull(policy, "crashPolicy");
        return this;
    }

    /**
     * @return a new pool; worker JVMs start now, concurrently
     * @throws IllegalStateException when an option needs worker processes but threads were chosen,
     *     or an option is for executors only
     */
    public Pool build() {
        if (idleWorkerTimeout != null || crashPolicy != CrashPolicy.FAIL_AFFECTED_TASKS) {
            throw new IllegalStateException("idleWorkerTimeout and crashPolicy are executor options: "
                    + "finish with buildExecutor(), or leave them out for a Pool");
        }
        return new ScheduledPool(engine(false), codec);
    }

    /**
     * @return a new executor ({@link ProcessPoolExecutor}, {@link ThreadExecutor}); worker JVMs start
     *     on demand, up to the maximum
     * @throws IllegalStateException when an option needs worker processes but threads were chosen
     */
    public TaskExecutor buildExecutor() {
        if (kind != Kind.PROCESSES && (idleWorkerTimeout != null || crashPolicy != CrashPolicy.FAIL_AFFECTED_TASKS)) {
            throw new IllegalStateException("idleWorkerTimeout and crashPolicy need worker processes: use processes(n)");
        }
        return new EngineExecutor(engine(true), codec);
    }

    private Engine engine(boolean executor) {
        if (engine != null) {
            return engine;
        }
        if (kind != Kind.PROCESSES) {
            List<String> processOnly = new ArrayList<>();
            if (maxTasksPerChild > 0) processOnly.add("maxTasksPerChild");
            if (maxMemoryPerChild > 0) processOnly.add("maxMemoryPerChild");
            if (taskTimeout != null) processOnly.add("taskTimeout");
            if (retries > 0) processOnly.add("retries");
            if (!jvmOptions.isEmpty()) processOnly.add("jvmOptions");
            if (!processOnly.isEmpty()) {
                throw new IllegalStateException(String.join(", ", processOnly)
                        + " need worker processes (a thread cannot be killed or recycled): use "
                        + "Pool.builder().processes(n)");
            }
            return kind == Kind.THREADS
                    ? ThreadEngine.platform(workers, initializer)
                    : ThreadEngine.virtual(initializer);
        }
        // A pool starts every worker now and lets each hold two chunks, hiding the round trip; an
        // executor starts workers on demand and keeps queued tasks here, where they can be cancelled.
        var options = new Options(workers, maxTasksPerChild, maxMemoryPerChild, taskTimeout, retries,
                initializer, List.copyOf(jvmOptions), workerOutput, startTimeout, codec,
                executor, executor ? 1 : 2, idleWorkerTimeout, crashPolicy == CrashPolicy.BREAK_EXECUTOR);
        return ProcessEngine.start(options);
    }

    private static int positive(String name, int value) {
        if (value < 1) {
            throw new IllegalArgumentException(name + " must be >= 1, was " + value);
        }
        return value;
    }

    private static int notNegative(String name, int value) {
        if (value < 0) {
            throw new IllegalArgumentException(name + " must be >= 0, was " + value);
        }
        return value;
    }
}
