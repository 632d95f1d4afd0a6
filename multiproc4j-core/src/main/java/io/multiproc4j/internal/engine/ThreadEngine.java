package io.multiproc4j.internal.engine;

import io.multiproc4j.BrokenPoolException;
import io.multiproc4j.PoolStats;
import io.multiproc4j.SerializableRunnable;
import io.multiproc4j.TaskFailedException;
import io.multiproc4j.WorkerRef;
import io.multiproc4j.spi.Batch;
import io.multiproc4j.spi.Engine;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * Runs batches on threads of this JVM: a fixed set of platform threads, or a virtual thread per
 * batch. Nothing is serialized. A thread cannot be killed, so {@link #shutdownNow()} interrupts
 * running tasks and fails their batches at once; a task that ignores the interrupt runs on, and its
 * result is dropped.
 */
public final class ThreadEngine implements Engine {
    private static final long PID = ProcessHandle.current().pid();

    private final ExecutorService executor;
    private final int workers;
    private final SerializableRunnable initializer;
    private final ThreadLocal<Boolean> initialized = ThreadLocal.withInitial(() -> false);
    private final Set<RunningBatch> running = ConcurrentHashMap.newKeySet();
    private volatile BrokenPoolException broken;
    /** Set by shutdownNow before it interrupts: a task that returns after that is reported cancelled. */
    private volatile boolean stopped;
    private final Object initLock = new Object();
    private boolean virtualInitDone;

    private final LongAdder threadsStarted;
    private final LongAdder batchesDone = new LongAdder();
    private final LongAdder tasksDone = new LongAdder();
    private final LongAdder batchesFailed = new LongAdder();

    private ThreadEngine(ExecutorService executor, int workers, SerializableRunnable initializer, LongAdder threadsStarted) {
        this.threadsStarted = threadsStarted;
        this.executor = executor;
        this.workers = workers;
        this.initializer = initializer;
    }

    /**
     * @param threads     the number of platform threads
     * @param initializer code run once per thread before its first task, or null
     * @return the engine
     */
    public static ThreadEngine platform(int threads, SerializableRunnable initializer) {
        var counter = new AtomicInteger();
        var started = new LongAdder();
        var executor = new ThreadPoolExecutor(threads, threads, 0, TimeUnit.MILLISECONDS, new LinkedBlockingQueue<>(), r -> {
            started.increment();
            return Thread.ofPlatform().daemon().name("multiproc4j-thread-" + counter.incrementAndGet()).unstarted(r);
        });
        return new ThreadEngine(executor, threads, initializer, started);
    }

    /**
     * @param initializer code run once, before the first task, or null
     * @return an engine that runs each batch on a new virtual thread
     */
    public static ThreadEngine virtual(SerializableRunnable initializer) {
        var factory = Thread.ofVirtual().name("multiproc4j-virtual-", 1).factory();
        var started = new LongAdder();
        ThreadFactory counting = r -> {
            started.increment();
            return factory.newThread(r);
        };
        return new ThreadEngine(Executors.newThreadPerTaskExecutor(counting), Integer.MAX_VALUE, initializer, started);
    }

    @Override
    public int workers() {
        return workers;
    }

    @Override
    public boolean shipsTasks() {
        return false;
    }

    @Override
    public BrokenPoolException brokenReason() {
        return broken;
    }

    @Override
    public void execute(Batch batch) {
        BrokenPoolException why = broken;
        if (why != null) {
            batch.fail(0, why);
            return;
        }
        executor.execute(new RunningBatch(batch));
    }

    private final class RunningBatch implements Runnable {
        final Batch batch;
        /** The thread running it, until it ends; guarded by this for interrupting. */
        volatile Thread thread;

        RunningBatch(Batch batch) {
            this.batch = batch;
        }

        @Override
        public void run() {
            // Registered before the check: a cancel either sees this batch running (and interrupts
            // it) or is seen here; checked first, a cancel in between would let the task run on.
            thread = Thread.currentThread();
            running.add(this);
            try {
                if (batch.isCancelled()) {
                    return;
                }
                if (!initialize(batch)) {
                    return;
                }
                var fn = batch.function();
                List<Object> inputs = batch.inputs();
                List<Object> results = new ArrayList<>(inputs.size());
                for (int i = 0; i < inputs.size(); i++) {
                    try {
                        results.add(fn.apply(inputs.get(i)));
                    } catch (Throwable t) {
                        if (!results.isEmpty()) {
                            batch.deliver(0, results);
                        }
                        tasksDone.add(results.size());
                        batchesDone.increment();
                        batchesFailed.increment();
                        long index = batch.firstIndex() + i;
                        WorkerRef worker = new WorkerRef(Thread.currentThread().getName(), PID);
                        batch.fail(i, new TaskFailedException("task " + index + " failed on " + worker + ": " + t,
                                t, index, worker));
                        return;
                    }
                }
                if (stopped) {
                    batch.fail(0, new CancellationException("the pool was terminated before this task finished"));
                } else {
                    tasksDone.add(results.size());
                    batchesDone.increment();
                    batch.deliver(0, results);
                }
            } finally {
                running.remove(this);
                synchronized (this) {
                    thread = null; // after this, interrupt() cannot reach the thread's next task
                }
            }
        }
    }

    /** Runs the initializer once per thread (per engine for virtual threads); false if it failed. */
    private boolean initialize(Batch batch) {
        if (initializer == null) {
            return true;
        }
        try {
            if (workers == Integer.MAX_VALUE) {
                synchronized (initLock) {
                    if (!virtualInitDone) {
                        initializer.run();
                        virtualInitDone = true;
                    }
                }
            } else if (!initialized.get()) {
                initializer.run();
                initialized.set(true);
            }
            return true;
        } catch (Throwable t) {
            if (broken == null) {
                broken = new BrokenPoolException("the initializer failed on " + Thread.currentThread().getName() + ": " + t, t);
            }
            batch.fail(0, broken);
            return false;
        }
    }

    @Override
    public void shutdown() {
        executor.shutdown();
    }

    @Override
    public List<Batch> shutdownNow() {
        stopped = true;
        List<Runnable> queued = executor.shutdownNow();
        List<Batch> neverStarted = new ArrayList<>();
        for (Runnable r : queued) {
            if (r instanceof RunningBatch rb && !rb.batch.isCancelled()) {
                neverStarted.add(rb.batch);
            }
        }
        var cancelled = new CancellationException("the pool was terminated before this task finished");
        for (RunningBatch rb : running) {
            rb.batch.fail(0, cancelled);
        }
        return neverStarted;
    }

    /**
     * A thread cannot be killed: a running batch's thread is interrupted and the batch fails now; if
     * the task ignores the interrupt it runs on, and its result is dropped. A queued batch is dropped
     * when its turn comes.
     */
    @Override
    public void interrupt(Batch batch) {
        for (RunningBatch rb : running) {
            if (rb.batch == batch) {
                synchronized (rb) {
                    Thread thread = rb.thread;
                    if (thread != null) {
                        thread.interrupt();
                    }
                }
            }
        }
        batch.fail(0, new CancellationException("cancelled"));
    }

    @Override
    public boolean awaitTermination(Duration timeout) throws InterruptedException {
        return executor.awaitTermination(timeout.toNanos(), TimeUnit.NANOSECONDS);
    }

    @Override
    public PoolStats stats() {
        return new PoolStats(threadsStarted.sum(), java.util.Map.of(), 0, batchesDone.sum(), tasksDone.sum(),
                batchesFailed.sum(), 0);
    }

    @Override
    public boolean isTerminated() {
        return executor.isTerminated();
    }
}
