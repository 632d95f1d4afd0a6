package io.multiproc4j.internal.engine;

import io.multiproc4j.BrokenPoolException;
import io.multiproc4j.SerializableRunnable;
import io.multiproc4j.TaskTimeoutException;
import io.multiproc4j.WorkerCrashedException;
import io.multiproc4j.WorkerOutput;
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
import java.util.function.Supplier;

/**
 * Runs batches on worker JVMs of this machine: the engine's lifecycle, the pending work and the
 * assignment policy. Starting and watching worker JVMs is {@link Supervisor}'s and their lives
 * (spawn, start failures, recycling, retire, stop, replace) are {@link Crew}'s; the engine's view
 * of one worker and its state machine is {@link Slot}'s; what a worker says (READY, RESULTS,
 * FAILED, RECALLED, RETIRING) is handled by {@link WorkerReplies} on its reader thread, and its exit
 * by {@link WorkerExits} (what it held is settled); watching running batches against the task
 * timeout is {@link TaskTimeouts}'; what a dead worker's running batch gets is
 * {@link RetryPolicy}'s; the bytes on the wire are {@link WorkerMessage}'s; writing and reading
 * sockets is {@link WorkerLink}'s. Those parts reach this class's lock-guarded state directly
 * (package-private, under {@code lock}): they are its parts, not layers.
 *
 * <pre>
 *  execute(batch) ─► encode inputs (caller's thread) ─► pending ─► assign ─► link.send (never blocks) ─► WorkerLink ─► worker
 *                                                                    ▲                                                │
 *        deliver / fail ◄── reader thread per worker ◄── RESULTS / FAILED / RECALLED ◄───────────────────────────────┘
 *  (WorkerLink's ring or socket: the engine does not know which)
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
 * ({@link WorkerExits}) A worker's death is one event from supervision, normally after its reader has read every frame it
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
 * in {@link Slot}) and killed after a grace period if stuck in user code, as is one leaving past
 * its memory limit whose exit hangs (in a shutdown hook: its held batches wait for that exit); a
 * retired worker is replaced at once only while work is left. The timer (timeouts, idle
 * retirement) and the supervisor's socket go at TERMINATED.
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
    static final Duration SHUTDOWN_GRACE = Duration.ofSeconds(10);

    private static final System.Logger LOG = System.getLogger("io.multiproc4j.engine");

    /** The engine's lifecycle; see the class overview. */
    public enum RunState { RUNNING, SHUTDOWN, STOP, TERMINATED }

    final Options options;
    final Codec codec;
    private final byte[] initializerBytes;
    private final ScheduledExecutorService timer;
    /** Wire ids: one per send of a batch. */
    private final AtomicLong wireIds = new AtomicLong();
    final EngineCounters counters = new EngineCounters();
    /** Null when the pool has no task timeout. */
    final TaskTimeouts timeouts;
    final RetryPolicy retryPolicy;
    private Supervisor supervisor;
    /** What a worker says, on its reader thread. */
    private final WorkerReplies replies = new WorkerReplies(this);
    /** A worker's exit, on supervision's thread. */
    private final WorkerExits exits = new WorkerExits(this);
    /** The workers' lives: spawn, start failures, retire, stop. Guarded by lock. */
    Crew crew;

    final ReentrantLock lock = new ReentrantLock();
    private final Condition terminatedCondition = lock.newCondition();
    // guarded by lock:
    final ArrayDeque<Dispatch> pending = new ArrayDeque<>();
    final List<Slot> slots = new ArrayList<>();
    /** What the lock's holder must run once it has released the lock: see {@link #unlock()}. */
    final List<Runnable> deferred = new ArrayList<>();
    RunState runState = RunState.RUNNING;
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
        WorkerLink.checkTransport(); // a bad -Dmultiproc4j.transport fails the pool's creation
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
            long period = Crew.idleCheckPeriodMillis(options.idleTimeout());
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
    void assignLocked() {
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
    WorkerProcess spawnLocked() {
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

    Slot slotOf(WorkerProcess process) {
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
            var link = WorkerLink.forWorker(channel, child.name(), () -> child.kill(ExitCause.CRASHED)); // its exit settles what it held
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
            link.readLoop(message -> replies.onMessage(slot, message));
            // EOF: its exit, reported by supervision, settles what it held
        }

        @Override
        public void exited(WorkerProcess child, Supervisor.Exit exit) {
            exits.onExit(child, exit);
        }
    }

    /** No more work for this worker; a replacement starts while the pool still needs workers. */
    void retireLocked(Slot slot, ExitCause why) {
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

    /**
     * A worker ended a batch (its last results, or a failure): it is idle if it holds nothing, it is
     * recycled if it has done its share of tasks (and asked to exit once it holds nothing), and more
     * work is handed out.
     */
    void afterBatchLocked(Slot slot) {
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
        progressLocked();
    }

    /**
     * After any change to the pending work or to a worker: in SHUTDOWN with nothing left to run the
     * workers are told to exit, and idle workers get what is pending.
     */
    void progressLocked() {
        if (runState == RunState.SHUTDOWN) {
            shutdownIfQuiescentLocked();
        }
        assignLocked();
    }

    /**
     * Asks a worker holding nothing to exit (SERVING → STOPPING); a worker stuck in user code is
     * killed after a grace period. One being killed, stopping or leaving is not asked.
     */
    void sendShutdownLocked(Slot slot) {
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

    /** Retires workers idle past the idle timeout ({@link Crew#retireIfIdle}), without replacing them. */
    private void retireIdle() {
        long now = System.nanoTime();
        lock.lock();
        try {
            for (Slot slot : slots) {
                if (slot.inflight.isEmpty() && slot.state() == Slot.State.SERVING
                        && crew.retireIfIdle(slot.process, slot.idleSince, now, options.idleTimeout())) {
                    sendShutdownLocked(slot);
                }
            }
        } finally {
            unlock();
        }
    }

    boolean anyInflightLocked() {
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
    void failLocked(Dispatch d, int offset, Supplier<? extends RuntimeException> failure) {
        Runnable fail = () -> deferred.add(() -> d.batch.fail(offset, failure.get()));
        if (d.delivering) {
            d.afterDelivery = fail;
        } else {
            fail.run();
        }
    }

    /** Breaks the engine: everything waiting fails with the reason (after the unlock), every worker is killed. */
    void breakLocked(String reason, Throwable cause) {
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
    void shutdownIfQuiescentLocked() {
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
                if (!d.startedBefore && d.base == 0 && d.done == 0 && !d.delivering && !d.reencoding) {
                    neverStarted.add(d.batch);
                } else {
                    // a retry, or one run again after its worker was killed for another batch (a
                    // worker ran part of it, a reader may still be delivering that part): not "never
                    // started"; it fails where its results end, after any delivery
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

    void terminateIfDoneLocked() {
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
    void unlock() {
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
