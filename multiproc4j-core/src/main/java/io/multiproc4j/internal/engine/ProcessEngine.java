package io.multiproc4j.internal.engine;

import io.multiproc4j.BrokenPoolException;
import io.multiproc4j.SerializableRunnable;
import io.multiproc4j.TaskFailedException;
import io.multiproc4j.TaskTimeoutException;
import io.multiproc4j.WorkerCrashedException;
import io.multiproc4j.WorkerOutput;
import io.multiproc4j.WorkerRef;
import io.multiproc4j.internal.codec.RemoteFailure;
import io.multiproc4j.internal.supervise.Crew;
import io.multiproc4j.internal.supervise.ExitCause;
import io.multiproc4j.internal.supervise.Supervisor;
import io.multiproc4j.internal.supervise.WorkerProcess;
import io.multiproc4j.internal.supervise.WorkerProcess.State;
import io.multiproc4j.internal.transport.FrameChannel;
import io.multiproc4j.internal.transport.WorkerLayout;
import io.multiproc4j.internal.transport.WorkerLink;
import io.multiproc4j.internal.transport.WorkerMessage;
import io.multiproc4j.spi.Batch;
import io.multiproc4j.spi.Codec;
import io.multiproc4j.spi.Engine;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.LongFunction;
import java.util.function.Supplier;

/**
 * Runs batches on worker JVMs of this machine: the engine's lifecycle, the pending work and the
 * assignment policy. Starting and watching worker JVMs is {@link Supervisor}'s and their lives
 * (spawn, start failures, recycling, retire, stop, replace) are {@link Crew}'s; the engine's view
 * of one worker and its state machine is {@link Slot}'s; watching running batches against the task
 * timeout is {@link TaskTimeouts}'; what a dead worker's running batch gets is
 * {@link RetryPolicy}'s; the bytes on the wire are {@link WorkerMessage}'s; writing and reading
 * sockets is {@link WorkerLink}'s.
 *
 * <pre>
 *  execute(batch) ─► encode inputs (caller's thread) ─► pending ─► assign ─► link.send (queued) ─► sender thread ─► socket
 *                                                                    ▲                                           │
 *        deliver / fail ◄── reader thread per worker ◄── RESULTS / FAILED / RECALLED ◄──────────────────────────┘
 *        exit (from supervision) ─► fail the running batch (or retry it), requeue the prefetched ones, respawn
 * </pre>
 *
 * <h2>Lifecycle</h2>
 * <pre>
 *   RUNNING ──shutdown()──► SHUTDOWN ──nothing pending or held: SHUTDOWN to each worker──┐
 *      │                       │                                                         │ the last worker
 *      │                       │                                                         ▼ exits
 *      ├──shutdownNow()────────┼──► STOP ──(every worker killed)── the last worker exits ──► TERMINATED
 *      └──workers cannot start (broken)──┘
 * </pre>
 * RUNNING accepts batches. SHUTDOWN refuses new ones and runs the accepted ones. STOP fails
 * everything unfinished (with the broken reason when broken, else CancellationException) and kills
 * every worker. TERMINATED: no worker process is alive, the socket directory is gone. Only the
 * methods named here move the state, always under {@code lock}; getters read it.
 *
 * <h2>Assignment</h2>
 * Idle workers pull from one queue: every ready worker gets one batch before any gets a second
 * (prefetch hides the round trip), and a worker that is idle while the queue is empty takes back
 * a batch another worker holds but has not started (RECALL), so no batch waits behind a busy
 * worker while another is idle — the one that became ready last included. n workers run n tasks
 * at once, cold or warm.
 *
 * <h2>Concurrency</h2>
 * One {@code lock} guards the pending queue, the slots and their bookkeeping; messages are queued
 * to a worker's link under it (never blocking), so a worker receives batches in assignment order
 * and its function table (decided here, at assignment) agrees with the worker's. User threads never
 * touch a socket: an interrupted caller cannot close a worker's channel. No callback runs under the
 * lock: results are delivered outside it, by the worker's reader thread alone, so a batch's
 * deliveries are ordered, and failures decided under it (their messages included, which print a
 * user's exception) run once it is released ({@link #unlock()}); what such a callback throws is
 * reported, never thrown to the unrelated caller that released the lock.
 * A reader decodes outside the lock too, so it re-checks, under the lock, that the send it reads
 * (each send of a batch has its own wire id) is still held before delivering.
 *
 * <h2>Crash handling</h2>
 * A worker's death is one event from supervision, normally after its reader has read every frame it
 * sent. Its {@link ExitCause} and {@link RetryPolicy} decide: TASK_TIMEOUT fails the batch it was
 * killed for with {@link TaskTimeoutException}, CANCELLED with CancellationException (if that batch
 * finished before the exit was seen, the batch it was running instead is re-run, not blamed),
 * CRASHED retries the running batch from its first input without a result or fails it with
 * {@link WorkerCrashedException}; batches it held but never started go back to the front of the
 * queue. A retry's remaining inputs are encoded again after the unlock (user code), the retry held
 * back in the queue meanwhile. A reader slower than supervision's bounded wait delivers late: a
 * send its exit has already settled is stale and its results are dropped; a delivery already under
 * way finishes before the retry is sent or the failure reported. Workers that die before they are
 * ready (STARTING in {@link Slot}) count as start failures: as many in a row as the pool has
 * workers, or an initializer that throws, break the engine.
 *
 * <h2>Shutdown</h2>
 * Recycled, idle and shut-down workers are asked to exit once they hold nothing (SERVING → STOPPING
 * in {@link Slot}) and killed after a grace period if stuck in user code; a retired worker is
 * replaced at once only while work is left. The timer (timeouts, idle retirement) and the
 * supervisor's socket go at TERMINATED.
 */
public final class ProcessEngine implements Engine {

    /**
     * The options of a process pool, checked by the builder.
     *
     * @param workers           the number of worker JVMs
     * @param maxTasksPerChild  recycle a worker after this many tasks; 0 = never
     * @param maxMemoryPerChild recycle a worker past this resident size in bytes; 0 = never
     * @param taskTimeout       kill a worker whose task runs longer; null = never
     * @param retries           re-run a batch whose worker died this many times
     * @param initializer       code run once per worker, or null
     * @param jvmOptions        options for worker JVMs
     * @param workerOutput      what to do with worker output
     * @param startTimeout      how long a worker may take to start
     * @param codec             how values travel
     * @param onDemand          start workers as work arrives (executors) instead of all at once (pools)
     * @param prefetch          batches a worker may hold at once: 2 hides the round trip (pools); 1 keeps
     *                          queued work in the parent, where it can be cancelled or handed back (executors)
     * @param idleTimeout       retire a worker idle this long, not replacing it; null = never
     * @param breakOnCrash      a worker that dies abruptly breaks the engine (Python's BrokenProcessPool)
     */
    public record Options(int workers, int maxTasksPerChild, long maxMemoryPerChild, Duration taskTimeout,
                          int retries, SerializableRunnable initializer, List<String> jvmOptions,
                          WorkerOutput workerOutput, Duration startTimeout, Codec codec,
                          boolean onDemand, int prefetch, Duration idleTimeout, boolean breakOnCrash) {}

    /**
     * Beyond the prefetch depth, a pool keeps feeding a worker small batches until it holds this many
     * tasks: with chunk size 1, two batches in flight would cap throughput at two round trips.
     */
    private static final int SMALL_BATCH_TASKS = 64;
    /** The largest encoded chunk: a frame holds it with the function and headers. */
    private static final int MAX_INPUT_BYTES = FrameChannel.MAX_FRAME - (64 << 20);
    /** The most batches a worker holds at once, however small. */
    private static final int MAX_BATCHES_PER_WORKER = 256;
    /** How long a worker told to shut down may take to finish its task before it is killed. */
    private static final Duration SHUTDOWN_GRACE = Duration.ofSeconds(10);

    private static final System.Logger LOG = System.getLogger("io.multiproc4j.engine");

    /** The engine's lifecycle; see the class overview. */
    public enum RunState { RUNNING, SHUTDOWN, STOP, TERMINATED }

    private final Options options;
    private final Codec codec;
    private final byte[] initializerBytes;
    private final ScheduledExecutorService timer;
    /** Wire ids: one per send of a batch. */
    private final AtomicLong wireIds = new AtomicLong();
    private final EngineCounters counters = new EngineCounters();
    /** Null when the pool has no task timeout. */
    private final TaskTimeouts timeouts;
    private final RetryPolicy retryPolicy;
    private Supervisor supervisor;
    /** The workers' lives: spawn, start failures, retire, stop. Guarded by lock. */
    private Crew crew;

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition terminatedCondition = lock.newCondition();
    // guarded by lock:
    private final ArrayDeque<Dispatch> pending = new ArrayDeque<>();
    private final List<Slot> slots = new ArrayList<>();
    /** What the lock's holder must run once it has released the lock: see {@link #unlock()}. */
    private final List<Runnable> deferred = new ArrayList<>();
    private RunState runState = RunState.RUNNING;
    private BrokenPoolException broken;

    private ProcessEngine(Options options) throws IOException {
        this.options = options;
        this.codec = options.codec();
        this.timeouts = options.taskTimeout() == null ? null : new TaskTimeouts(options.taskTimeout());
        this.retryPolicy = new RetryPolicy(options.retries());
        this.initializerBytes = options.initializer() == null ? null : codec.encode(options.initializer());
        var scheduler = new ScheduledThreadPoolExecutor(1, r -> Thread.ofPlatform().daemon()
                .name("multiproc4j-timer").unstarted(r));
        scheduler.setRemoveOnCancelPolicy(true);
        this.timer = scheduler;
    }

    /**
     * Starts the worker JVMs (concurrently) and returns at once.
     *
     * @param options the pool's options
     * @return the engine
     */
    public static ProcessEngine start(Options options) {
        ProcessEngine engine;
        try {
            engine = new ProcessEngine(options);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot encode the initializer: " + e.getMessage(), e);
        }
        engine.supervisor = Supervisor.open(engine.new Events());
        engine.crew = new Crew(engine.supervisor, "worker",
                name -> WorkerProcess.poolWorker(name, options.jvmOptions(), options.workerOutput()),
                options.startTimeout(), options.workers(), options.maxTasksPerChild());
        if (engine.timeouts != null) {
            long period = engine.timeouts.periodMillis();
            engine.timer.scheduleWithFixedDelay(engine::checkTimeouts, period, period, TimeUnit.MILLISECONDS);
        }
        if (options.idleTimeout() != null) {
            long period = Math.clamp(options.idleTimeout().toMillis() / 4, 10, 1000);
            engine.timer.scheduleWithFixedDelay(engine::retireIdle, period, period, TimeUnit.MILLISECONDS);
        }
        engine.lock.lock();
        try {
            for (int i = 0; !options.onDemand() && i < options.workers(); i++) {
                engine.spawnLocked();
            }
        } finally {
            engine.unlock();
        }
        return engine;
    }

    @Override
    public int workers() {
        return options.workers();
    }

    @Override
    public boolean shipsTasks() {
        return true;
    }

    @Override
    public BrokenPoolException brokenReason() {
        lock.lock();
        try {
            return broken;
        } finally {
            unlock();
        }
    }

    /** @return where the lifecycle is (a getter, for tests that walk it) */
    public RunState runState() {
        lock.lock();
        try {
            return runState;
        } finally {
            unlock();
        }
    }

    @Override
    public io.multiproc4j.PoolStats stats() {
        return counters.snapshot();
    }

    // ───────────────────────────── submitting ─────────────────────────────

    @Override
    public void execute(Batch batch) {
        Dispatch d = Dispatch.encode(batch, codec, MAX_INPUT_BYTES); // here, outside the lock
        if (d == null) {
            return; // it cannot travel: failed already
        }
        lock.lock();
        try {
            if (broken != null) {
                BrokenPoolException why = broken;
                deferred.add(() -> batch.fail(0, why));
                return;
            }
            if (runState != RunState.RUNNING) {
                throw new RejectedExecutionException("the pool is shut down and takes no new work");
            }
            pending.addLast(d);
            assignLocked();
        } finally {
            unlock();
        }
    }

    // ───────────────────────────── assignment ─────────────────────────────

    /** Hands pending batches to workers with room, and takes back unstarted ones for idle workers. */
    private void assignLocked() {
        if (runState == RunState.STOP || runState == RunState.TERMINATED) {
            return;
        }
        // One pass per depth: every idle worker gets one batch before any gets a second (prefetch).
        boolean anyTook = true;
        for (int depth = 1; anyTook && !pending.isEmpty(); depth++) {
            anyTook = false;
            for (Slot slot : slots) {
                if (pending.isEmpty()) {
                    break;
                }
                if (!canTake(slot, depth)) {
                    continue;
                }
                Dispatch d = pollLivePending();
                if (d == null) {
                    anyTook = false; // only held-back retries are left: no deeper pass can send one
                    break;
                }
                anyTook = true;
                sendLocked(slot, d);
            }
        }
        if (pending.isEmpty()) {
            recallForIdleLocked();
        }
        if (options.onDemand()) {
            spawnForPendingLocked();
        }
    }

    private boolean canTake(Slot slot, int depth) {
        if (!slot.serving() || slot.recalling != null || slot.inflight.size() >= depth
                || !crew.mayTake(slot.tasksDone, slot.inflightTasks)) {
            return false;
        }
        return depth <= options.prefetch() || options.prefetch() > 1 && depth <= MAX_BATCHES_PER_WORKER
                && slot.inflightTasks < SMALL_BATCH_TASKS;
    }

    /** Queues the batch to the worker, deciding here what the worker's function table holds. */
    private void sendLocked(Slot slot, Dispatch d) {
        d.wireId = wireIds.incrementAndGet(); // a new id per send: what an earlier send's worker says is stale
        if (slot.inflight.isEmpty()) {
            slot.headSince = System.nanoTime();
        }
        slot.inflight.addLast(d);
        slot.inflightTasks += d.remaining();
        if (slot.process.state() == State.READY) {
            slot.process.moveTo(State.BUSY);
        }
        long fnId = d.batch.functionId();
        byte[] fnBytes = null;
        long forget = -1;
        d.carriedFunction = false;
        if (slot.knownFunctions.get(fnId) == null) {
            fnBytes = d.functionBytes;
            d.carriedFunction = true;
            slot.knownFunctions.put(fnId, Boolean.TRUE);
            if (slot.knownFunctions.size() > WorkerLayout.FUNCTIONS_PER_WORKER) {
                var eldest = slot.knownFunctions.entrySet().iterator();
                forget = eldest.next().getKey();
                eldest.remove();
            }
        }
        slot.link.send(new WorkerMessage.BatchMessage(d.wireId, fnId, fnBytes, forget, d.inputBytes));
        counters.batchSent(slot.process, d.remaining());
    }

    /**
     * The queue is empty: each idle worker takes back one batch that a busy worker holds but may not
     * have started (the last one sent it), so it does not wait behind that worker's running task.
     */
    private void recallForIdleLocked() {
        int idle = 0;
        int recalling = 0;
        for (Slot slot : slots) {
            if (slot.recalling != null) {
                recalling++;
            }
            if (slot.inflight.isEmpty() && slot.process.state() == State.READY && slot.serving()
                    && crew.mayTake(slot.tasksDone, 0)) {
                idle++;
            }
        }
        while (idle > recalling) {
            Slot donor = null;
            for (Slot slot : slots) {
                // a worker being killed, stopping or leaving gives back everything at its exit: not a donor
                if (slot.recalling == null && slot.state() == Slot.State.SERVING && slot.link != null && slot.inflight.size() >= 2
                        && (donor == null || slot.inflight.size() > donor.inflight.size())) {
                    donor = slot;
                }
            }
            if (donor == null) {
                return;
            }
            donor.recalling = donor.inflight.peekLast();
            donor.link.send(new WorkerMessage.Recall(donor.recalling.wireId));
            recalling++;
        }
    }

    /** On demand: one more worker for each pending batch that no starting worker will take, up to the maximum. */
    private void spawnForPendingLocked() {
        int starting = 0;
        int active = 0;
        for (Slot slot : slots) {
            State state = slot.process.state();
            if (state == State.STARTING) {
                starting++;
            }
            if (state != State.RETIRING) {
                active++;
            }
        }
        int room = options.workers() - active;
        if (room <= 0) {
            return;
        }
        int live = 0;
        for (Dispatch d : pending) {
            if (!d.batch.isCancelled() && ++live >= starting + room) {
                break; // enough to know: every spawn we may still make is needed (keeps this O(workers))
            }
        }
        while (live > starting && active < options.workers() && broken == null) {
            spawnLocked();
            starting++;
            active++;
        }
    }

    /**
     * The first queued batch to send: cancelled ones are dropped (their cancel failed them), and a
     * retry whose dead worker's results are still being delivered, or whose inputs are being
     * encoded again, waits where it is.
     */
    private Dispatch pollLivePending() {
        for (Iterator<Dispatch> it = pending.iterator(); it.hasNext(); ) {
            Dispatch d = it.next();
            if (d.batch.isCancelled()) {
                it.remove();
            } else if (!d.delivering && !d.reencoding) {
                it.remove();
                return d;
            }
        }
        return null;
    }

    @Override
    public void interrupt(Batch batch) {
        Dispatch queued = null;
        lock.lock();
        try {
            for (Dispatch d : pending) {
                if (d.batch == batch) {
                    queued = d;
                    break;
                }
            }
            if (queued != null) {
                pending.remove(queued);
                failLocked(queued, queued.base + queued.done, () -> new CancellationException("cancelled before it started"));
            } else {
                for (Slot slot : slots) {
                    Dispatch running = slot.inflight.peekFirst();
                    if (running != null && running.batch == batch && slot.killFor(running, ExitCause.CANCELLED)) {
                        // Killing the worker is the only way to stop code that ignores interrupts;
                        // prefetched batches behind it go back to the queue when it dies. A batch
                        // prefetched behind another is left to run: its results are dropped.
                        slot.process.kill(ExitCause.CANCELLED);
                    }
                }
            }
        } finally {
            unlock();
        }
    }

    // ───────────────────────────── workers ─────────────────────────────

    /** @return the new worker, or null when none could start (the engine is broken then) */
    private WorkerProcess spawnLocked() {
        WorkerProcess process;
        try {
            process = crew.spawn();
        } catch (UncheckedIOException | IllegalStateException e) {
            breakLocked("cannot start worker JVMs: " + e.getMessage(), e); // its failures run after the unlock
            return null;
        }
        slots.add(new Slot(process));
        counters.workerStarted(process);
        return process;
    }

    private Slot slotOf(WorkerProcess process) {
        for (Slot slot : slots) {
            if (slot.process == process) {
                return slot;
            }
        }
        return null;
    }

    /** Supervision's events, on its threads. */
    private final class Events implements Supervisor.Listener {
        @Override
        public void connected(WorkerProcess child, FrameChannel channel) {
            var link = new WorkerLink(channel, child.name(), () -> child.kill(ExitCause.CRASHED)); // its exit settles what it held
            Slot slot;
            lock.lock();
            try {
                slot = slotOf(child);
                if (slot == null || runState == RunState.STOP || runState == RunState.TERMINATED) {
                    child.kill(ExitCause.KILLED);
                    link.close();
                    return;
                }
                link.send(new WorkerMessage.Setup(codec.getClass().getName(), child.name(),
                        options.taskTimeout() != null, options.maxMemoryPerChild(), initializerBytes));
                slot.link = link;
            } finally {
                unlock();
            }
            link.readLoop(message -> onMessage(slot, message));
            // EOF: its exit, reported by supervision, settles what it held
        }

        @Override
        public void exited(WorkerProcess child, Supervisor.Exit exit) {
            onExit(child, exit);
        }
    }

    private void onMessage(Slot slot, WorkerMessage message) throws IOException {
        switch (message) {
            case WorkerMessage.Ready ready -> onReady(slot);
            case WorkerMessage.InitFailed(byte[] failure) -> onInitFailed(slot, failure);
            case WorkerMessage.Results results -> onResults(slot, results);
            case WorkerMessage.Failed failed -> onFailed(slot, failed);
            case WorkerMessage.Retiring retiring -> onRetiring(slot);
            case WorkerMessage.Recalled recalled -> onRecalled(slot, recalled);
            default -> throw new IOException("unexpected " + message.type() + " from " + slot.process);
        }
    }

    private void onReady(Slot slot) {
        lock.lock();
        try {
            if (slot.process.state() != State.STARTING) {
                return;
            }
            if (!crew.ready(slot.process)) {
                return; // its start timed out just now: it is being killed
            }
            slot.moveTo(Slot.State.SERVING);
            slot.idleSince = System.nanoTime();
            if (runState == RunState.SHUTDOWN) {
                shutdownIfQuiescentLocked();
            }
            assignLocked();
        } finally {
            unlock();
        }
    }

    private void onInitFailed(Slot slot, byte[] failure) throws IOException {
        Throwable cause = RemoteFailure.decode(failure, codec);
        slot.process.expectExit(ExitCause.INIT_FAILED);
        lock.lock();
        try {
            breakLocked("the initializer failed in " + slot.process + ": " + cause, cause);
        } finally {
            unlock();
        }
    }

    private void onResults(Slot slot, WorkerMessage.Results message) {
        long wireId = message.batchId();
        int offset = message.offset();
        Dispatch d = find(slot, wireId);
        if (d == null) {
            return; // stale: an earlier send's (its worker's exit settled it), or failed by terminate()
        }
        List<?> results;
        try {
            results = io.multiproc4j.internal.codec.StandardCodec.decodeResults(codec, message.results()); // packed results stay packed
        } catch (IOException | ClassNotFoundException | RuntimeException e) {
            WorkerRef ref = slot.process.ref();
            finishFailed(slot, wireId, offset, index -> {
                var cause = new IllegalStateException("the result of task " + index + " could not be decoded in the pool: " + e, e);
                return new TaskFailedException(cause.getMessage(), cause, index, ref);
            });
            return;
        }
        int at;
        boolean complete;
        lock.lock();
        try {
            // Decoded outside the lock: meanwhile the worker's exit may have settled the batch (retried
            // from where it stood, on another worker, or failed). Its results are then stale: dropped,
            // or the retry's own would arrive at an offset its batch has passed.
            if (slot.find(wireId) != d || offset != d.done) {
                return;
            }
            at = d.base + offset; // read here: a retry moves base
            d.done = offset + results.size();
            slot.headSince = System.nanoTime();
            slot.tasksDone += results.size();
            slot.inflightTasks -= results.size();
            complete = d.done >= d.inputs.size();
            counters.tasksDelivered(results.size());
            if (complete) {
                slot.inflight.remove(d);
                counters.batchDone(slot.process, d, false);
            } else {
                d.delivering = true; // its batch sees these results before anything its worker's exit decides
            }
        } finally {
            unlock();
        }
        try {
            d.batch.deliver(at, results);
        } finally {
            if (complete) {
                afterBatch(slot);
            } else {
                deliveryDone(d);
            }
        }
    }

    /** A delivery of part of a batch is done: what the worker's exit decided meanwhile happens now. */
    private void deliveryDone(Dispatch d) {
        lock.lock();
        try {
            d.delivering = false;
            Runnable then = d.afterDelivery;
            d.afterDelivery = null;
            if (then != null) {
                then.run();
            }
        } finally {
            unlock();
        }
    }

    private void onFailed(Slot slot, WorkerMessage.Failed message) throws IOException {
        Throwable cause = RemoteFailure.decode(message.failure(), codec);
        WorkerRef ref = slot.process.ref();
        finishFailed(slot, message.batchId(), message.offset(), index -> new TaskFailedException(
                "task " + index + " failed on " + ref + ": " + cause, cause, index, ref));
    }

    private Dispatch find(Slot slot, long wireId) {
        lock.lock();
        try {
            return slot.find(wireId);
        } finally {
            unlock();
        }
    }

    /**
     * The task at {@code offset} of the send {@code wireId} failed; nothing if that send is stale.
     * {@code failureAt} runs after the unlock: its message prints a user's exception.
     */
    private void finishFailed(Slot slot, long wireId, int offset, LongFunction<TaskFailedException> failureAt) {
        lock.lock();
        try {
            Dispatch d = slot.find(wireId);
            if (d == null) {
                return; // its worker's exit settled it already, or terminate() did
            }
            slot.inflight.remove(d);
            slot.tasksDone += offset + 1 - d.done;
            slot.inflightTasks -= d.inputs.size() - d.done;
            slot.headSince = System.nanoTime();
            counters.batchDone(slot.process, d, true);
            long index = d.batch.firstIndex() + d.base + offset;
            failLocked(d, d.base + offset, () -> failureAt.apply(index));
            afterBatchLocked(slot);
        } finally {
            unlock();
        }
    }

    /** The worker answered RECALL: a batch it had not started comes back to the queue. */
    private void onRecalled(Slot slot, WorkerMessage.Recalled message) {
        lock.lock();
        try {
            Dispatch d = slot.recalling;
            slot.recalling = null;
            if (message.recalled() && d != null && d.wireId == message.batchId() && slot.inflight.remove(d)) {
                slot.inflightTasks -= d.remaining();
                if (d.carriedFunction) {
                    slot.knownFunctions.remove(d.batch.functionId()); // the worker never decoded it
                }
                pending.addFirst(d);
                counters.recalled();
            }
            if (slot.inflight.isEmpty() && slot.process.state() == State.BUSY) {
                slot.process.moveTo(State.READY);
                slot.idleSince = System.nanoTime();
            }
            if (slot.process.state() == State.RETIRING && slot.inflight.isEmpty()) {
                sendShutdownLocked(slot);
            }
            if (runState == RunState.SHUTDOWN) {
                shutdownIfQuiescentLocked();
            }
            assignLocked();
        } finally {
            unlock();
        }
    }

    /** The worker passed its memory limit between batches and is exiting without starting another. */
    private void onRetiring(Slot slot) {
        lock.lock();
        try {
            slot.process.expectExit(ExitCause.MEMORY_LIMIT);
            retireLocked(slot, ExitCause.MEMORY_LIMIT);
            slot.moveTo(Slot.State.LEAVING); // it exits by itself: nothing to send it
        } finally {
            unlock();
        }
    }

    /** No more work for this worker; a replacement starts while the pool still needs workers. */
    private void retireLocked(Slot slot, ExitCause why) {
        if (crew.retire(slot.process, why)) {
            retiredLocked(slot, why);
        }
    }

    /** It retired just now: counted, and replaced at once when supervision says so and work is left. */
    private void retiredLocked(Slot slot, ExitCause why) {
        if (why == ExitCause.RECYCLED || why == ExitCause.MEMORY_LIMIT) {
            counters.recycled(slot.process, why);
        }
        if (Crew.replacedAtRetire(why)
                && (runState == RunState.RUNNING || runState == RunState.SHUTDOWN && !pending.isEmpty())) {
            slot.replacement = spawnLocked();
        }
    }

    /** Recycles the worker if it has done its share of tasks, then hands out more work. */
    private void afterBatch(Slot slot) {
        lock.lock();
        try {
            afterBatchLocked(slot);
        } finally {
            unlock();
        }
    }

    private void afterBatchLocked(Slot slot) {
        if (slot.process.state() == State.BUSY && slot.inflight.isEmpty()) {
            slot.process.moveTo(State.READY);
            slot.idleSince = System.nanoTime();
        }
        if (crew.recycleIfDue(slot.process, slot.tasksDone)) {
            retiredLocked(slot, ExitCause.RECYCLED);
        }
        if (slot.process.state() == State.RETIRING && slot.inflight.isEmpty()) {
            sendShutdownLocked(slot);
        }
        if (runState == RunState.SHUTDOWN) {
            shutdownIfQuiescentLocked();
        }
        assignLocked();
    }

    /**
     * Asks a worker holding nothing to exit (SERVING → STOPPING); a worker stuck in user code is
     * killed after a grace period. One being killed, stopping or leaving is not asked.
     */
    private void sendShutdownLocked(Slot slot) {
        if (!slot.moveTo(Slot.State.STOPPING)) {
            return;
        }
        WorkerLink link = slot.link;
        crew.stop(slot.process, link == null ? null : () -> link.send(WorkerMessage.Shutdown.INSTANCE), SHUTDOWN_GRACE);
    }

    private void checkTimeouts() {
        long now = System.nanoTime();
        lock.lock();
        try {
            timeouts.killOverdue(slots, now);
        } finally {
            unlock();
        }
    }

    /** Retires workers idle past the idle timeout, without replacing them (they start again on demand). */
    private void retireIdle() {
        long limit = options.idleTimeout().toNanos();
        long now = System.nanoTime();
        lock.lock();
        try {
            for (Slot slot : slots) {
                if (slot.process.state() == State.READY && slot.inflight.isEmpty() && slot.state() == Slot.State.SERVING
                        && now - slot.idleSince > limit) {
                    retireLocked(slot, ExitCause.IDLE);
                    sendShutdownLocked(slot);
                }
            }
        } finally {
            unlock();
        }
    }

    /** A worker's process exited: the one place where deaths are handled. */
    private void onExit(WorkerProcess process, Supervisor.Exit exit) {
        lock.lock();
        try {
            Slot slot = slotOf(process);
            if (slot == null) {
                return;
            }
            slots.remove(slot);
            counters.workerExited(process, exit);
            if (slot.state() == Slot.State.STARTING) {
                onStartFailureLocked(slot, exit);
            } else if (runState != RunState.STOP && runState != RunState.TERMINATED) {
                boolean abrupt = exit.cause() == ExitCause.CRASHED && !slot.inflight.isEmpty();
                failOrRetryHeldLocked(slot, exit);
                if (abrupt && options.breakOnCrash()) {
                    breakLocked("a worker died abruptly (" + process + ", exit code " + exit.exitCode()
                            + ") and this executor's crash policy breaks it; create a new one", null);
                }
                boolean needed = runState == RunState.RUNNING || !pending.isEmpty() || anyInflightLocked();
                if (slot.replacement == null && needed && exit.cause() != ExitCause.IDLE) {
                    spawnLocked();
                }
            }
            if (runState == RunState.SHUTDOWN) {
                shutdownIfQuiescentLocked();
            }
            assignLocked();
            terminateIfDoneLocked();
        } finally {
            unlock();
        }
    }

    private void onStartFailureLocked(Slot slot, Supervisor.Exit exit) {
        if (runState != RunState.RUNNING && runState != RunState.SHUTDOWN) {
            return;
        }
        if (exit.cause() == ExitCause.KILLED || exit.cause() == ExitCause.INIT_FAILED) {
            return;
        }
        // It held nothing: work goes to workers that are ready.
        requeueHeldLocked(slot);
        if (crew.startFailed()) {
            breakLocked("worker JVMs cannot start: " + crew.whyNotStarted(slot.process, exit), null);
        } else {
            spawnLocked();
        }
    }

    /**
     * Settles what a dead worker held: the batch it was running (the head) gets what
     * {@link RetryPolicy} decides; the ones behind it go back to the queue. A worker that said it
     * retires (LEAVING) started nothing it held: all of it goes back.
     */
    private void failOrRetryHeldLocked(Slot slot, Supervisor.Exit exit) {
        Dispatch head = slot.state() == Slot.State.LEAVING ? null : slot.inflight.pollFirst();
        requeueHeldLocked(slot);
        if (head == null) {
            return;
        }
        int offset = head.base + head.done;
        long index = head.batch.firstIndex() + offset;
        WorkerRef ref = slot.process.ref();
        switch (retryPolicy.decide(slot, head, exit.cause())) {
            case TIMED_OUT -> failLocked(head, offset, () -> timeouts.failure(index, ref));
            case CANCELLED -> failLocked(head, offset,
                    () -> new CancellationException("cancelled while running; its worker was killed and replaced"));
            case RUN_AGAIN -> requeueStartedLocked(head);
            case RETRY -> {
                head.attempts++;
                counters.retried();
                requeueStartedLocked(head);
            }
            case CRASHED -> {
                counters.crashed(slot.process, head);
                failLocked(head, offset, () -> new WorkerCrashedException(index, ref, exit.exitCode(), exit.stderrTail()));
            }
        }
    }

    /**
     * A batch its dead worker had started goes back to the front. Without the inputs that have
     * results, which takes encoding the rest again: that runs after the unlock (a value's
     * writeObject is user code), the batch held back in the queue meanwhile. It also waits there
     * until the dead worker's results under delivery are delivered.
     */
    private void requeueStartedLocked(Dispatch d) {
        pending.addFirst(d);
        if (d.done > 0) {
            d.reencoding = true;
            deferred.add(() -> reencode(d));
        }
        if (d.delivering) {
            d.afterDelivery = this::assignLocked;
        }
    }

    /** Encodes the inputs of a retry that have no result yet, outside the lock; then it may be sent. */
    private void reencode(Dispatch d) {
        List<Object> rest = new ArrayList<>(d.inputs.subList(d.done, d.inputs.size())); // stable: d is held back
        byte[] bytes = null;
        Exception notEncodable = null;
        try {
            bytes = codec.encode(rest); // they encoded before, but a codec (or a value's writeObject) may change its mind
        } catch (IOException | RuntimeException e) {
            notEncodable = e;
        }
        lock.lock();
        try {
            d.reencoding = false;
            if (!pending.contains(d)) {
                return; // settled meanwhile: cancelled, shutdownNow, broken
            }
            if (notEncodable != null) {
                pending.remove(d);
                long index = d.batch.firstIndex() + d.base + d.done;
                Exception why = notEncodable;
                failLocked(d, d.base + d.done, () -> {
                    var cause = new IllegalStateException("task " + index
                            + " could not be encoded again to run it on another worker: " + why, why);
                    return new TaskFailedException(cause.getMessage(), cause, index, null);
                });
            } else {
                d.restart(rest, bytes);
            }
            if (runState == RunState.SHUTDOWN) {
                shutdownIfQuiescentLocked();
            }
            assignLocked();
            terminateIfDoneLocked();
        } finally {
            unlock();
        }
    }

    /** Batches it had been sent but never started go back to the front, in their order. */
    private void requeueHeldLocked(Slot slot) {
        var rest = new ArrayList<>(slot.inflight);
        for (int i = rest.size() - 1; i >= 0; i--) {
            pending.addFirst(rest.get(i));
        }
        slot.inflight.clear();
        slot.inflightTasks = 0;
        slot.recalling = null;
    }

    private boolean anyInflightLocked() {
        for (Slot slot : slots) {
            if (!slot.inflight.isEmpty()) {
                return true;
            }
        }
        return false;
    }

    /**
     * Fails a batch once the lock is released (see {@link #unlock()}); if a reader is delivering
     * results of it, after that delivery, so its batch sees them first.
     */
    private void failLocked(Dispatch d, int offset, Supplier<? extends RuntimeException> failure) {
        Runnable fail = () -> deferred.add(() -> d.batch.fail(offset, failure.get()));
        if (d.delivering) {
            d.afterDelivery = fail;
        } else {
            fail.run();
        }
    }

    /** Breaks the engine: everything waiting fails with the reason (after the unlock), every worker is killed. */
    private void breakLocked(String reason, Throwable cause) {
        if (broken != null || runState == RunState.TERMINATED) {
            return;
        }
        broken = new BrokenPoolException(reason, cause);
        BrokenPoolException why = broken;
        runState = RunState.STOP;
        for (Dispatch d : drainAllLocked()) {
            failLocked(d, d.base + d.done, () -> why);
        }
        for (Slot slot : slots) {
            slot.process.kill(ExitCause.KILLED);
        }
        terminateIfDoneLocked();
    }

    private List<Dispatch> drainAllLocked() {
        List<Dispatch> all = new ArrayList<>(pending);
        pending.clear();
        for (Slot slot : slots) {
            all.addAll(slot.inflight);
            slot.inflight.clear();
            slot.inflightTasks = 0;
            slot.recalling = null;
        }
        return all;
    }

    // ───────────────────────────── shutdown ─────────────────────────────

    @Override
    public void shutdown() {
        lock.lock();
        try {
            if (runState == RunState.RUNNING) {
                runState = RunState.SHUTDOWN;
                shutdownIfQuiescentLocked();
                terminateIfDoneLocked();
            }
        } finally {
            unlock();
        }
    }

    /** In SHUTDOWN with nothing left to run, tells every worker to exit. */
    private void shutdownIfQuiescentLocked() {
        if (anyInflightLocked()) {
            return;
        }
        for (Dispatch d : pending) {
            if (!d.batch.isCancelled()) {
                return;
            }
        }
        // Only cancelled batches are left, and a cancelled batch has completed: left queued, they
        // would keep the pool from ever stopping (nothing else would look at the queue again).
        pending.clear();
        for (Slot slot : slots) {
            if (slot.process.state() == State.STARTING) {
                slot.process.kill(ExitCause.KILLED);
            } else {
                retireLocked(slot, ExitCause.SHUTDOWN);
                sendShutdownLocked(slot);
            }
        }
    }

    @Override
    public List<Batch> shutdownNow() {
        List<Batch> neverStarted = new ArrayList<>();
        lock.lock();
        try {
            if (runState == RunState.TERMINATED) {
                return neverStarted;
            }
            runState = RunState.STOP;
            var cancelled = new CancellationException("the pool was terminated before this task finished");
            for (Dispatch d : pending) {
                if (d.batch.isCancelled()) {
                    continue;
                }
                if (d.base == 0 && d.done == 0 && d.attempts == 0 && !d.delivering && !d.reencoding) {
                    neverStarted.add(d.batch);
                } else {
                    // a retry (its first worker ran part of it, a reader may still be delivering that
                    // part): not "never started"; it fails where its results end, after any delivery
                    failLocked(d, d.base + d.done, () -> cancelled);
                }
            }
            pending.clear();
            for (Dispatch d : drainAllLocked()) {
                failLocked(d, d.base + d.done, () -> cancelled);
            }
            for (Slot slot : slots) {
                slot.process.kill(ExitCause.KILLED);
            }
            terminateIfDoneLocked();
        } finally {
            unlock();
        }
        return neverStarted;
    }

    private void terminateIfDoneLocked() {
        if ((runState == RunState.SHUTDOWN || runState == RunState.STOP) && slots.isEmpty()) {
            runState = RunState.TERMINATED;
            timer.shutdownNow();
            supervisor.close();
            terminatedCondition.signalAll();
        }
    }

    @Override
    public boolean awaitTermination(Duration timeout) throws InterruptedException {
        long nanos = timeout.toNanos();
        lock.lock();
        try {
            while (runState != RunState.TERMINATED) {
                if (nanos <= 0) {
                    return false;
                }
                nanos = terminatedCondition.awaitNanos(nanos);
            }
            return true;
        } finally {
            unlock();
        }
    }

    @Override
    public boolean isTerminated() {
        lock.lock();
        try {
            return runState == RunState.TERMINATED;
        } finally {
            unlock();
        }
    }

    /**
     * Releases the lock, then runs what its holder deferred: batch failures, whose callbacks (a
     * user's future completions, a job's bookkeeping) must never run under the engine's lock, where
     * a callback that waits for the engine deadlocks, and a retry's re-encoding. Each runs even when
     * one before it threw; what one throws is reported, never thrown to this caller: the failure
     * is another batch's (a caller of shutdownNow, or a reader thread, is not to blame for it).
     */
    private void unlock() {
        List<Runnable> run = null;
        if (!deferred.isEmpty() && lock.getHoldCount() == 1) {
            run = new ArrayList<>(deferred);
            deferred.clear();
        }
        lock.unlock();
        if (run == null) {
            return;
        }
        for (Runnable r : run) {
            try {
                r.run();
            } catch (RuntimeException | Error e) {
                if (e instanceof VirtualMachineError) {
                    throw e;
                }
                LOG.log(System.Logger.Level.WARNING, "a batch's failure callback threw; the engine goes on", e);
            }
        }
    }
}
