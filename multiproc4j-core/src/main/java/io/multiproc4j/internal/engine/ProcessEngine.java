package io.multiproc4j.internal.engine;

import io.multiproc4j.BrokenPoolException;
import io.multiproc4j.SerializableRunnable;
import io.multiproc4j.TaskFailedException;
import io.multiproc4j.TaskTimeoutException;
import io.multiproc4j.WorkerCrashedException;
import io.multiproc4j.WorkerOutput;
import io.multiproc4j.internal.codec.RemoteFailure;
import io.multiproc4j.internal.supervise.WorkerProcess;
import io.multiproc4j.internal.transport.FrameChannel;
import io.multiproc4j.internal.transport.FrameChannel.Frame;
import io.multiproc4j.internal.transport.FrameChannel.PayloadWriter;
import io.multiproc4j.internal.transport.FrameType;
import io.multiproc4j.spi.Batch;
import io.multiproc4j.spi.Codec;
import io.multiproc4j.spi.Engine;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Runs batches on worker JVMs of this machine.
 *
 * <pre>
 *  execute(batch) ─► encode inputs (caller's thread) ─► pending ─► assign ─► slot.outbox ─► flush ─► socket
 *                                                                     ▲                               │
 *        deliver / fail ◄── reader thread per worker ◄── RESULTS / FAILED ◄───────────────────────────┘
 *        death (process exit) ─► fail the running batch (or retry it), requeue the prefetched ones, respawn
 * </pre>
 *
 * <h2>Concurrency</h2>
 * One {@code lock} guards the pending queue, the slots and their bookkeeping. Nothing blocks on
 * I/O while holding it: frames are written by {@link #flush} under the slot's own {@code sendLock},
 * in the order the batches were assigned (outbox order = inflight order), so the head of a slot's
 * inflight queue is always the batch its worker is running. Results are delivered outside the lock,
 * by the slot's reader thread alone, so a batch's deliveries are ordered.
 *
 * <h2>Crash handling</h2>
 * A worker's death is one event: its process exit ({@link Process#onExit()}), handled after its
 * reader thread has read every frame it sent, so results written just before dying are not lost.
 * Only the head batch fails (or is retried); prefetched batches it never started go back to the
 * front of the queue. A worker killed for a timeout fails its head with {@link TaskTimeoutException}.
 * Workers that die before connecting count as start failures: as many in a row as the pool has
 * workers, or an initializer that throws, break the engine.
 *
 * <h2>Shutdown</h2>
 * RUNNING → SHUTDOWN (no new batches; workers get SHUTDOWN once nothing is pending or running) →
 * TERMINATED (every process has exited); RUNNING/SHUTDOWN → STOP (everything unfinished fails, every
 * worker is killed) → TERMINATED. A JVM shutdown hook kills the workers of every live engine, and
 * workers halt by themselves when the pool's JVM dies (EOF on their socket).
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

    /** Functions a worker keeps decoded. */
    private static final int FUNCTIONS_PER_WORKER = 64;
    /**
     * Beyond the prefetch depth, a pool keeps feeding a worker small batches until it holds this many
     * tasks: with chunk size 1, two batches in flight would cap throughput at two round trips.
     */
    private static final int SMALL_BATCH_TASKS = 64;
    /** The largest encoded chunk: a frame holds it with the function and headers. */
    private static final int MAX_INPUT_BYTES = FrameChannel.MAX_FRAME - (64 << 20);
    /** The most batches a worker holds at once, however small. */
    private static final int MAX_BATCHES_PER_WORKER = 256;

    private static final Set<ProcessEngine> LIVE = ConcurrentHashMap.newKeySet();
    private static final ExecutorService VIRTUAL = Executors.newVirtualThreadPerTaskExecutor();

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            for (ProcessEngine engine : LIVE) {
                engine.killAll();
            }
        }, "multiproc4j-shutdown"));
    }

    private enum RunState { RUNNING, SHUTDOWN, STOP, TERMINATED }

    private final Options options;
    private final Codec codec;
    private final Path directory;
    private final Path socketPath;
    private final ServerSocketChannel server;
    private final byte[] initializerBytes;
    private final ScheduledExecutorService timer;
    private final AtomicLong dispatchIds = new AtomicLong();

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition terminatedCondition = lock.newCondition();
    // guarded by lock:
    private final ArrayDeque<Dispatch> pending = new ArrayDeque<>();
    private final Map<String, Slot> unconnected = new java.util.HashMap<>();
    private final List<Slot> slots = new ArrayList<>();
    private RunState runState = RunState.RUNNING;
    private BrokenPoolException broken;
    private int startFailures;
    private int workerCounter;

    private ProcessEngine(Options options) throws IOException {
        this.options = options;
        this.codec = options.codec();
        this.initializerBytes = options.initializer() == null ? null : codec.encode(options.initializer());
        SocketFiles.removeLeftovers();
        this.directory = SocketFiles.createPrivateDirectory();
        this.socketPath = directory.resolve("pool.sock");
        this.server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.bind(UnixDomainSocketAddress.of(socketPath));
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
            throw new UncheckedIOException("cannot set up the pool's socket: " + e.getMessage(), e);
        }
        LIVE.add(engine);
        Thread.ofPlatform().daemon().name("multiproc4j-acceptor").start(engine::acceptLoop);
        if (options.taskTimeout() != null) {
            long period = Math.clamp(options.taskTimeout().toMillis() / 10, 5, 100);
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
            engine.lock.unlock();
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
            lock.unlock();
        }
    }

    // ───────────────────────────── submitting ─────────────────────────────

    @Override
    public void execute(Batch batch) {
        Dispatch d = new Dispatch(dispatchIds.incrementAndGet(), batch, batch.inputs(), 0);
        d.inputBytes = batch.encodedInputs();
        if (d.inputBytes == null) {
            try {
                d.inputBytes = codec.encode(d.inputs);
            } catch (IOException | RuntimeException e) {
                failUnencodable(batch, e);
                return;
            }
        }
        if (d.inputBytes.length > MAX_INPUT_BYTES) {
            var cause = new IllegalArgumentException("a chunk of " + d.inputs.size() + " inputs encodes to "
                    + d.inputBytes.length + " bytes, above the limit of " + MAX_INPUT_BYTES + " per chunk: pass a smaller chunkSize");
            batch.fail(0, new TaskFailedException(cause.getMessage(), cause, batch.firstIndex(), null));
            return;
        }
        List<Slot> toFlush;
        lock.lock();
        try {
            if (broken != null) {
                batch.fail(0, broken);
                return;
            }
            if (runState != RunState.RUNNING) {
                throw new RejectedExecutionException("the pool is shut down and takes no new work");
            }
            pending.addLast(d);
            toFlush = assignLocked();
        } finally {
            lock.unlock();
        }
        flushAll(toFlush);
    }

    /** Finds the input that cannot be encoded and fails the batch there, naming its class. */
    private void failUnencodable(Batch batch, Exception whole) {
        List<Object> inputs = batch.inputs();
        for (int i = 0; i < inputs.size(); i++) {
            Object input = inputs.get(i);
            try {
                codec.encode(input);
            } catch (IOException | RuntimeException e) {
                String type = input == null ? "null" : input.getClass().getName();
                var cause = new IllegalArgumentException("input " + (batch.firstIndex() + i) + " (a " + type
                        + ") cannot be sent to a worker JVM: " + e + ". Make its class implement "
                        + "java.io.Serializable, or pass a serializable value instead.", e);
                batch.fail(i, new TaskFailedException(cause.getMessage(), cause, batch.firstIndex() + i, null));
                return;
            }
        }
        var cause = new IllegalArgumentException("the inputs cannot be sent to a worker JVM: " + whole, whole);
        batch.fail(0, new TaskFailedException(cause.getMessage(), cause, batch.firstIndex(), null));
    }

    /** Hands pending batches to workers with room; returns the slots whose outbox grew. */
    private List<Slot> assignLocked() {
        List<Slot> grown = new ArrayList<>();
        if (runState == RunState.STOP || runState == RunState.TERMINATED) {
            return grown;
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
                anyTook = true;
                Dispatch d = pollLivePending();
                if (d == null) {
                    break;
                }
                if (slot.inflight.isEmpty()) {
                    slot.headSince = System.nanoTime();
                }
                slot.inflight.addLast(d);
                slot.outbox.addLast(d);
                slot.inflightTasks += d.remaining();
                slot.state = WorkerProcess.State.BUSY;
                if (!grown.contains(slot)) {
                    grown.add(slot);
                }
            }
        }
        if (options.onDemand()) {
            spawnForPendingLocked();
        }
        return grown;
    }

    private boolean canTake(Slot slot, int depth) {
        if ((slot.state != WorkerProcess.State.READY && slot.state != WorkerProcess.State.BUSY)
                || slot.inflight.size() >= depth || !slot.hasAllowance(options.maxTasksPerChild())) {
            return false;
        }
        return depth <= options.prefetch() || options.prefetch() > 1 && depth <= MAX_BATCHES_PER_WORKER
                && slot.inflightTasks < SMALL_BATCH_TASKS;
    }

    /** On demand: one more worker for each pending batch that no starting worker will take, up to the maximum. */
    private void spawnForPendingLocked() {
        int starting = 0;
        int active = 0;
        for (Slot slot : slots) {
            if (slot.state == WorkerProcess.State.STARTING) {
                starting++;
            }
            if (slot.state != WorkerProcess.State.RETIRING) {
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

    private Dispatch pollLivePending() {
        Dispatch d;
        while ((d = pending.pollFirst()) != null) {
            if (!d.batch.isCancelled()) {
                return d;
            }
        }
        return null;
    }

    private void flushAll(List<Slot> grown) {
        for (Slot slot : grown) {
            flush(slot);
        }
    }

    /** Writes the slot's outbox in order. Whoever holds sendLock drains it; others need not wait. */
    private void flush(Slot slot) {
        if (!slot.sendLock.tryLock()) {
            // The holder drains the outbox in a loop, and re-checks it after unlocking.
            return;
        }
        try {
            while (true) {
                Dispatch d;
                lock.lock();
                try {
                    d = slot.outbox.pollFirst();
                } finally {
                    lock.unlock();
                }
                if (d == null) {
                    break;
                }
                writeBatch(slot, d);
            }
            slot.process.channel().flush(); // one system call for the run of batches
        } catch (IOException e) {
            // The worker is dying; its death requeues or fails what it held.
        } finally {
            slot.sendLock.unlock();
        }
        lock.lock();
        boolean more;
        try {
            more = !slot.outbox.isEmpty();
        } finally {
            lock.unlock();
        }
        if (more) {
            flush(slot);
        }
    }

    /** Called under the slot's sendLock: the function cache record follows the worker's order. */
    private void writeBatch(Slot slot, Dispatch d) {
        long fnId = d.batch.functionId();
        byte[] fnBytes = null;
        long forget = -1;
        if (slot.knownFunctions.get(fnId) == null) {
            fnBytes = d.batch.encodedFunction();
            slot.knownFunctions.put(fnId, Boolean.TRUE);
            if (slot.knownFunctions.size() > FUNCTIONS_PER_WORKER) {
                var eldest = slot.knownFunctions.entrySet().iterator();
                forget = eldest.next().getKey();
                eldest.remove();
            }
        }
        try {
            var w = new PayloadWriter();
            w.writeLong(d.id);
            w.writeLong(fnId);
            w.bytes(fnBytes);
            w.writeLong(forget);
            w.bytes(d.inputBytes);
            slot.process.channel().sendBuffered(FrameType.BATCH, w.toByteArray());
        } catch (IOException e) {
            // The worker is dying; its death requeues or fails what it held.
        }
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
            } else {
                for (Slot slot : slots) {
                    Dispatch running = slot.inflight.peekFirst();
                    if (running != null && running.batch == batch && slot.cancelled == null) {
                        // Killing the worker is the only way to stop code that ignores interrupts;
                        // prefetched batches behind it go back to the queue when it dies. A batch
                        // prefetched behind another is left to run: its results are dropped.
                        slot.cancelled = running;
                        slot.process.kill();
                    }
                }
            }
        } finally {
            lock.unlock();
        }
        if (queued != null) {
            queued.batch.fail(0, new CancellationException("cancelled before it started"));
        }
    }

    // ───────────────────────────── workers ─────────────────────────────

    private void spawnLocked() {
        String name = "worker-" + (++workerCounter);
        WorkerProcess process;
        try {
            process = WorkerProcess.spawn(name, socketPath, options.jvmOptions(), options.workerOutput());
        } catch (UncheckedIOException e) {
            breakLocked("cannot start worker JVMs: " + e.getMessage(), e);
            return;
        }
        Slot slot = new Slot(process);
        slots.add(slot);
        unconnected.put(process.key(), slot);
        process.process().onExit().thenRunAsync(() -> onExit(slot), VIRTUAL);
        timer.schedule(() -> startTimedOut(slot), options.startTimeout().toMillis(), TimeUnit.MILLISECONDS);
    }

    private void startTimedOut(Slot slot) {
        lock.lock();
        try {
            if (slot.state == WorkerProcess.State.STARTING) {
                slot.startTimedOut = true;
                slot.process.kill();
            }
        } finally {
            lock.unlock();
        }
    }

    private void acceptLoop() {
        while (true) {
            SocketChannel socket;
            try {
                socket = server.accept();
            } catch (IOException e) {
                return; // closed at termination
            }
            // A platform thread per worker: a blocked read wakes faster than a virtual thread's.
            Thread.ofPlatform().daemon().name("multiproc4j-reader").start(() -> serve(socket));
        }
    }

    /** Handshake, then the reader loop of one worker, on its own virtual thread. */
    private void serve(SocketChannel socket) {
        var channel = new FrameChannel(socket);
        Slot slot;
        try {
            Frame hello = channel.receive();
            DataInputStream in = hello.reader();
            String key = HexFormat.of().formatHex(FrameChannel.readBytes(in));
            lock.lock();
            try {
                slot = hello.type() == FrameType.HELLO ? unconnected.remove(key) : null;
                if (slot != null) {
                    slot.reader = Thread.currentThread();
                    slot.process.connected(channel);
                }
            } finally {
                lock.unlock();
            }
            if (slot == null) {
                channel.close(); // not one of ours: wrong or reused key
                return;
            }
            var setup = new PayloadWriter();
            setup.writeUTF(codec.getClass().getName());
            setup.writeUTF(slot.process.name());
            setup.writeBoolean(options.taskTimeout() != null);
            setup.writeLong(options.maxMemoryPerChild());
            setup.bytes(initializerBytes);
            channel.send(FrameType.SETUP, setup.toByteArray());
        } catch (IOException | RuntimeException e) {
            closeQuietly(channel);
            return;
        }
        try {
            while (true) {
                Frame frame = channel.receive();
                switch (frame.type()) {
                    case READY -> onReady(slot);
                    case INIT_FAILED -> onInitFailed(slot, frame);
                    case RESULTS -> onResults(slot, frame);
                    case FAILED -> onFailed(slot, frame);
                    case RETIRING -> onRetiring(slot);
                    default -> throw new IOException("unexpected frame " + frame.type() + " from " + slot.process);
                }
            }
        } catch (IOException | RuntimeException e) {
            // EOF: the worker exited (its exit is handled by onExit) or broke the protocol.
            slot.process.kill();
            closeQuietly(channel);  // our end of its socket: without this, one descriptor per worker leaked
        }
    }

    private void onReady(Slot slot) {
        List<Slot> toFlush;
        lock.lock();
        try {
            if (slot.state != WorkerProcess.State.STARTING) {
                return;
            }
            slot.state = WorkerProcess.State.READY;
            slot.idleSince = System.nanoTime();
            startFailures = 0;
            if (runState == RunState.SHUTDOWN) {
                shutdownIfQuiescentLocked();
            }
            toFlush = assignLocked();
        } finally {
            lock.unlock();
        }
        flushAll(toFlush);
    }

    private void onInitFailed(Slot slot, Frame frame) throws IOException {
        Throwable cause = RemoteFailure.decode(frame.payload(), codec);
        List<Runnable> failures;
        lock.lock();
        try {
            failures = breakLocked("the initializer failed in " + slot.process + ": " + cause, cause);
        } finally {
            lock.unlock();
        }
        failures.forEach(Runnable::run);
    }

    private void onResults(Slot slot, Frame frame) throws IOException {
        DataInputStream in = frame.reader();
        long id = in.readLong();
        int offset = in.readInt();
        byte[] bytes = FrameChannel.readBytes(in);
        List<?> results;
        Dispatch d = find(slot, id);
        if (d == null) {
            return; // failed already by terminate()
        }
        try {
            results = (List<?>) codec.decode(bytes);
        } catch (IOException | ClassNotFoundException | RuntimeException e) {
            long index = d.batch.firstIndex() + d.base + offset;
            var cause = new IllegalStateException("the result of task " + index + " could not be decoded in the pool: " + e, e);
            finishFailed(slot, d, offset, new TaskFailedException(cause.getMessage(), cause, index, slot.process.ref()));
            return;
        }
        boolean complete;
        lock.lock();
        try {
            d.done = offset + results.size();
            slot.headSince = System.nanoTime();
            slot.tasksDone += results.size();
            slot.inflightTasks -= results.size();
            complete = d.done >= d.inputs.size();
            if (complete) {
                slot.inflight.remove(d);
            }
        } finally {
            lock.unlock();
        }
        d.batch.deliver(d.base + offset, results);
        if (complete) {
            afterBatch(slot);
        }
    }

    private void onFailed(Slot slot, Frame frame) throws IOException {
        DataInputStream in = frame.reader();
        long id = in.readLong();
        int offset = in.readInt();
        Throwable cause = RemoteFailure.decode(FrameChannel.readBytes(in), codec);
        Dispatch d = find(slot, id);
        if (d == null) {
            return;
        }
        long index = d.batch.firstIndex() + d.base + offset;
        finishFailed(slot, d, offset, new TaskFailedException("task " + index + " failed on " + slot.process.ref()
                + ": " + cause, cause, index, slot.process.ref()));
    }

    private Dispatch find(Slot slot, long id) {
        lock.lock();
        try {
            return slot.find(id);
        } finally {
            lock.unlock();
        }
    }

    private void finishFailed(Slot slot, Dispatch d, int offset, TaskFailedException failure) {
        lock.lock();
        try {
            slot.inflight.remove(d);
            slot.tasksDone += offset + 1 - d.done;
            slot.inflightTasks -= d.inputs.size() - d.done;
            slot.headSince = System.nanoTime();
        } finally {
            lock.unlock();
        }
        d.batch.fail(d.base + offset, failure);
        afterBatch(slot);
    }

    /** The worker passed its memory limit between batches and is exiting without starting another. */
    private void onRetiring(Slot slot) {
        lock.lock();
        try {
            slot.selfRetired = true;
            retireLocked(slot);
        } finally {
            lock.unlock();
        }
    }

    private void retireLocked(Slot slot) {
        if (slot.state == WorkerProcess.State.RETIRING || slot.state == WorkerProcess.State.DEAD) {
            return;
        }
        slot.state = WorkerProcess.State.RETIRING;
        if (runState == RunState.RUNNING || runState == RunState.SHUTDOWN && !pending.isEmpty()) {
            slot.replaced = true;
            spawnLocked();
        }
    }

    /** Recycles the worker if it has done its share of tasks, then hands out more work. */
    private void afterBatch(Slot slot) {
        List<Slot> toFlush;
        boolean tellShutdown = false;
        lock.lock();
        try {
            if (slot.state == WorkerProcess.State.BUSY && slot.inflight.isEmpty()) {
                slot.state = WorkerProcess.State.READY;
                slot.idleSince = System.nanoTime();
            }
            if (options.maxTasksPerChild() > 0 && slot.tasksDone >= options.maxTasksPerChild()) {
                retireLocked(slot);
            }
            if (slot.state == WorkerProcess.State.RETIRING && slot.inflight.isEmpty() && !slot.shutdownSent) {
                slot.shutdownSent = true;
                tellShutdown = true;
            }
            if (runState == RunState.SHUTDOWN) {
                shutdownIfQuiescentLocked();
            }
            toFlush = assignLocked();
        } finally {
            lock.unlock();
        }
        if (tellShutdown) {
            sendShutdown(slot);
        }
        flushAll(toFlush);
    }

    private void sendShutdown(Slot slot) {
        FrameChannel channel = slot.process.channel();
        if (channel == null) {
            slot.process.kill();
            return;
        }
        slot.sendLock.lock();
        try {
            channel.send(FrameType.SHUTDOWN, new byte[0]);
        } catch (IOException e) {
            slot.process.kill();
        } finally {
            slot.sendLock.unlock();
        }
        // A worker stuck in user code ignores SHUTDOWN until its task ends; shutdown is bounded.
        timer.schedule(slot.process::kill, 10, TimeUnit.SECONDS);
    }

    private void checkTimeouts() {
        Duration timeout = options.taskTimeout();
        long now = System.nanoTime();
        lock.lock();
        try {
            for (Slot slot : slots) {
                Dispatch head = slot.inflight.peekFirst();
                if (head != null && slot.timedOut == null && now - slot.headSince > timeout.toNanos()) {
                    slot.timedOut = head;
                    slot.process.kill();
                }
            }
        } finally {
            lock.unlock();
        }
    }

    /** Retires workers idle past the idle timeout, without replacing them (they start again on demand). */
    private void retireIdle() {
        long limit = options.idleTimeout().toNanos();
        long now = System.nanoTime();
        List<Slot> idle = new ArrayList<>();
        lock.lock();
        try {
            for (Slot slot : slots) {
                if (slot.state == WorkerProcess.State.READY && slot.inflight.isEmpty() && !slot.shutdownSent
                        && now - slot.idleSince > limit) {
                    slot.state = WorkerProcess.State.RETIRING;
                    slot.replaced = true;
                    slot.shutdownSent = true;
                    idle.add(slot);
                }
            }
        } finally {
            lock.unlock();
        }
        idle.forEach(this::sendShutdown);
    }

    /** A worker's process exited: the one place where deaths are handled. */
    private void onExit(Slot slot) {
        Thread reader = slot.reader;
        if (reader != null) {
            try {
                reader.join(Duration.ofSeconds(2)); // read what it sent before dying
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        int exitCode = slot.process.process().exitValue();
        List<String> tail = slot.process.stderrTail(300);
        slot.process.drainStdout();
        List<Runnable> failures = new ArrayList<>();
        List<Slot> toFlush;
        lock.lock();
        try {
            boolean everReady = slot.state != WorkerProcess.State.STARTING;
            slot.state = WorkerProcess.State.DEAD;
            slots.remove(slot);
            unconnected.remove(slot.process.key());
            if (!everReady) {
                onStartFailureLocked(slot, exitCode, tail, failures);
            } else if (runState != RunState.STOP && runState != RunState.TERMINATED) {
                boolean abrupt = !slot.selfRetired && !slot.shutdownSent && slot.timedOut == null
                        && slot.cancelled == null && !slot.inflight.isEmpty();
                failOrRetryHeldLocked(slot, exitCode, tail, failures);
                if (abrupt && options.breakOnCrash()) {
                    failures.addAll(breakLocked("a worker died abruptly (" + slot.process + ", exit code " + exitCode
                            + ") and this executor's crash policy breaks it; create a new one", null));
                }
                boolean needed = runState == RunState.RUNNING || !pending.isEmpty() || anyInflightLocked();
                if (!slot.replaced && needed) {
                    spawnLocked();
                }
            }
            if (runState == RunState.SHUTDOWN) {
                shutdownIfQuiescentLocked();
            }
            toFlush = assignLocked();
            terminateIfDoneLocked();
        } finally {
            lock.unlock();
        }
        failures.forEach(Runnable::run);
        flushAll(toFlush);
    }

    private void onStartFailureLocked(Slot slot, int exitCode, List<String> tail, List<Runnable> failures) {
        if (runState != RunState.RUNNING && runState != RunState.SHUTDOWN) {
            return;
        }
        if (slot.killedOnPurpose) {
            return;
        }
        startFailures++;
        String why = slot.startTimedOut
                ? "did not connect within " + options.startTimeout().toMillis() + " ms"
                : "exited with code " + exitCode + " before connecting";
        String reason = slot.process + " " + why
                + (tail.isEmpty() ? "" : "; its stderr:\n  " + String.join("\n  ", tail));
        if (startFailures >= Math.max(1, options.workers())) {
            failures.addAll(breakLocked("worker JVMs cannot start: " + reason, null));
        } else {
            spawnLocked();
        }
    }

    private void failOrRetryHeldLocked(Slot slot, int exitCode, List<String> tail, List<Runnable> failures) {
        Dispatch head = slot.selfRetired ? null : slot.inflight.pollFirst();
        if (head != null) {
            long index = head.batch.firstIndex() + head.base + head.done;
            int offset = head.base + head.done;
            if (slot.timedOut == head) {
                var failure = new TaskTimeoutException(index, slot.process.ref(), options.taskTimeout());
                failures.add(() -> head.batch.fail(offset, failure));
            } else if (slot.cancelled == head) {
                var failure = new CancellationException("cancelled while running; its worker was killed and replaced");
                failures.add(() -> head.batch.fail(offset, failure));
            } else if (head.attempts < options.retries() && !head.batch.isCancelled()) {
                head.attempts++;
                head.dropDone(codec);
                pending.addFirst(head);
            } else {
                var failure = new WorkerCrashedException(index, slot.process.ref(), exitCode, tail);
                failures.add(() -> head.batch.fail(offset, failure));
            }
        }
        // Batches it had been sent but never started go back to the front, in their order.
        var rest = new ArrayList<>(slot.inflight);
        for (int i = rest.size() - 1; i >= 0; i--) {
            pending.addFirst(rest.get(i));
        }
        slot.inflight.clear();
        slot.outbox.clear();
        slot.inflightTasks = 0;
    }

    private boolean anyInflightLocked() {
        for (Slot slot : slots) {
            if (!slot.inflight.isEmpty()) {
                return true;
            }
        }
        return false;
    }

    /** Breaks the engine: everything waiting fails with the reason, every worker is killed. */
    private List<Runnable> breakLocked(String reason, Throwable cause) {
        List<Runnable> failures = new ArrayList<>();
        if (broken != null || runState == RunState.TERMINATED) {
            return failures;
        }
        broken = new BrokenPoolException(reason, cause);
        BrokenPoolException why = broken;
        runState = RunState.STOP;
        for (Dispatch d : drainAllLocked()) {
            failures.add(() -> d.batch.fail(d.base + d.done, why));
        }
        for (Slot slot : slots) {
            slot.killedOnPurpose = true;
            slot.process.kill();
        }
        terminateIfDoneLocked();
        return failures;
    }

    private List<Dispatch> drainAllLocked() {
        List<Dispatch> all = new ArrayList<>(pending);
        pending.clear();
        for (Slot slot : slots) {
            all.addAll(slot.inflight);
            slot.inflight.clear();
            slot.outbox.clear();
            slot.inflightTasks = 0;
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
            lock.unlock();
        }
    }

    /** In SHUTDOWN with nothing left to run, tells every worker to exit. */
    private void shutdownIfQuiescentLocked() {
        if (!pending.isEmpty() || anyInflightLocked()) {
            return;
        }
        for (Slot slot : slots) {
            if (slot.state == WorkerProcess.State.STARTING) {
                slot.killedOnPurpose = true;
                slot.process.kill();
            } else if (!slot.shutdownSent) {
                slot.shutdownSent = true;
                VIRTUAL.execute(() -> sendShutdown(slot));
            }
        }
    }

    @Override
    public List<Batch> shutdownNow() {
        List<Dispatch> unfinished;
        List<Batch> neverStarted = new ArrayList<>();
        lock.lock();
        try {
            if (runState == RunState.TERMINATED) {
                return neverStarted;
            }
            runState = RunState.STOP;
            for (Dispatch d : pending) {
                if (!d.batch.isCancelled()) {
                    neverStarted.add(d.batch);
                }
            }
            pending.clear();
            unfinished = drainAllLocked();
            for (Slot slot : slots) {
                slot.killedOnPurpose = true;
                slot.process.kill();
            }
            terminateIfDoneLocked();
        } finally {
            lock.unlock();
        }
        var cancelled = new CancellationException("the pool was terminated before this task finished");
        for (Dispatch d : unfinished) {
            d.batch.fail(d.base + d.done, cancelled);
        }
        return neverStarted;
    }

    private void terminateIfDoneLocked() {
        if ((runState == RunState.SHUTDOWN || runState == RunState.STOP) && slots.isEmpty()) {
            runState = RunState.TERMINATED;
            LIVE.remove(this);
            timer.shutdownNow();
            closeQuietly(server);
            SocketFiles.delete(directory);
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
            lock.unlock();
        }
    }

    @Override
    public boolean isTerminated() {
        lock.lock();
        try {
            return runState == RunState.TERMINATED;
        } finally {
            lock.unlock();
        }
    }

    private void killAll() {
        lock.lock();
        try {
            for (Slot slot : slots) {
                slot.killedOnPurpose = true;
                slot.process.kill();
            }
        } finally {
            lock.unlock();
        }
        SocketFiles.delete(directory);
    }

    private static void closeQuietly(java.io.Closeable closeable) {
        try {
            closeable.close();
        } catch (IOException e) {
            // nothing to do
        }
    }

    /** The engine's view of one worker. Fields are guarded by the engine's lock unless noted. */
    private static final class Slot {
        final WorkerProcess process;
        WorkerProcess.State state = WorkerProcess.State.STARTING;
        /** Batches sent or to be sent, in send order: the head is the one running. */
        final ArrayDeque<Dispatch> inflight = new ArrayDeque<>();
        /** Batches assigned but not yet written; drained by {@link #flush}. */
        final ArrayDeque<Dispatch> outbox = new ArrayDeque<>();
        final ReentrantLock sendLock = new ReentrantLock();
        /** Function ids the worker holds, eldest first. Guarded by sendLock. */
        final LinkedHashMap<Long, Boolean> knownFunctions = new LinkedHashMap<>(16, 0.75f, true);
        long tasksDone;
        long inflightTasks;
        long headSince;
        Dispatch timedOut;
        /** The running batch it was killed to cancel. */
        Dispatch cancelled;
        /** When it last became idle (nanoTime). */
        long idleSince = System.nanoTime();
        boolean replaced;
        boolean shutdownSent;
        boolean startTimedOut;
        /** It said RETIRING: it started nothing it held, so all of it is requeued. */
        boolean selfRetired;
        boolean killedOnPurpose;
        volatile Thread reader;

        Slot(WorkerProcess process) {
            this.process = process;
        }

        /** Room under maxTasksPerChild; a chunk larger than what is left still goes to an idle worker. */
        boolean hasAllowance(int maxTasks) {
            return maxTasks <= 0 || tasksDone < maxTasks && (inflight.isEmpty() || tasksDone + inflightTasks < maxTasks);
        }

        Dispatch find(long id) {
            for (Dispatch d : inflight) {
                if (d.id == id) {
                    return d;
                }
            }
            return null;
        }
    }

    /** A batch on its way through this engine; retries run what its first worker did not finish. */
    private static final class Dispatch {
        final long id;
        final Batch batch;
        List<Object> inputs;
        /** Index within the batch of {@code inputs.get(0)}. */
        int base;
        byte[] inputBytes;
        /** Results received, counted from {@code inputs.get(0)}. */
        int done;
        int attempts;

        Dispatch(long id, Batch batch, List<Object> inputs, int base) {
            this.id = id;
            this.batch = batch;
            this.inputs = inputs;
            this.base = base;
        }

        int remaining() {
            return inputs.size() - done;
        }

        /** Before a retry: keeps only the inputs without results. */
        void dropDone(Codec codec) {
            if (done == 0) {
                return;
            }
            inputs = new ArrayList<>(inputs.subList(done, inputs.size()));
            base += done;
            done = 0;
            try {
                inputBytes = codec.encode(inputs);
            } catch (IOException e) {
                throw new UncheckedIOException(e); // they encoded before; a subset encodes too
            }
        }
    }
}
