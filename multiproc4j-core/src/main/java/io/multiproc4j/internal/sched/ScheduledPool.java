package io.multiproc4j.internal.sched;

import io.multiproc4j.BrokenPoolException;
import io.multiproc4j.Pool;
import io.multiproc4j.PoolState;
import io.multiproc4j.PoolStats;
import io.multiproc4j.SerializableBiFunction;
import io.multiproc4j.SerializableFunction;
import io.multiproc4j.internal.codec.SegmentedList;
import io.multiproc4j.internal.codec.StandardCodec;
import io.multiproc4j.spi.Codec;
import io.multiproc4j.spi.Engine;
import java.io.IOException;
import java.io.NotSerializableException;
import java.io.Serial;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Iterator;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Flow;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The {@link Pool} over any {@link Engine}: checks calls, cuts inputs into batches, keeps order,
 * applies back-pressure, and walks the pool's states (see {@link Pool}). Every call is a job
 * ({@link MapJob} or {@link ResultIterator}); the engine only runs batches.
 */
public final class ScheduledPool implements Pool {
    /** Runs user code chained to our futures, and publisher signals, off the engines' threads. */
    static final Executor CALLBACKS =
            Executors.newThreadPerTaskExecutor(Thread.ofVirtual().name("multiproc4j-callback-", 1).factory());
    static final AtomicLong FUNCTION_IDS = new AtomicLong();

    private final Engine engine;
    private final Codec codec;
    private final Object stateLock = new Object();
    private PoolState state = PoolState.RUNNING;

    /**
     * @param engine where batches run
     * @param codec  how functions are checked and encoded for engines that ship them
     */
    public ScheduledPool(Engine engine, Codec codec) {
        this.engine = Objects.requireNonNull(engine, "engine");
        this.codec = Objects.requireNonNull(codec, "codec");
    }

    @Override
    public int workers() {
        return engine.workers();
    }

    /** A pure getter: TERMINATED only once the engine says no worker is left. */
    @Override
    public PoolState state() {
        PoolState asked;
        synchronized (stateLock) {
            asked = state;
        }
        if (asked != PoolState.RUNNING && engine.isTerminated()) {
            return PoolState.TERMINATED;
        }
        return engine.brokenReason() != null ? PoolState.BROKEN : asked;
    }

    @Override
    public PoolStats stats() {
        return engine.stats();
    }

    // ───────────────────────────── calls ─────────────────────────────

    @Override
    public <T, R> List<R> map(SerializableFunction<? super T, ? extends R> fn, Iterable<? extends T> inputs,
                              int chunkSize) {
        return await(mapAsync(fn, inputs, chunkSize), "map");
    }

    @Override
    public <T, R> CompletableFuture<List<R>> mapAsync(SerializableFunction<? super T, ? extends R> fn,
                                                      Iterable<? extends T> inputs, int chunkSize) {
        Objects.requireNonNull(inputs, "inputs");
        checkChunkSize(chunkSize);
        FunctionSpec spec = prepare(fn);
        List<Object> all = materialize(inputs);
        int size = chunkSize > 0 ? chunkSize : defaultChunkSize(all.size());
        MapJob<List<R>> job = new MapJob<>(all.size(), false);
        submitAll(job, spec, all, size);
        return job.future();
    }

    @Override
    public <T, R> Iterator<R> imap(SerializableFunction<? super T, ? extends R> fn, Iterable<? extends T> inputs,
                                   int chunkSize) {
        return lazy(fn, inputs, chunkSize, true);
    }

    @Override
    public <T, R> Iterator<R> imapUnordered(SerializableFunction<? super T, ? extends R> fn,
                                            Iterable<? extends T> inputs, int chunkSize) {
        return lazy(fn, inputs, chunkSize, false);
    }

    @Override
    public <T, R> List<R> starmap(SerializableBiFunction<? super T, ? super T, ? extends R> fn,
                                  Iterable<? extends List<? extends T>> argPairs) {
        Objects.requireNonNull(fn, "fn");
        Objects.requireNonNull(argPairs, "argPairs");
        int i = 0;
        for (List<?> pair : argPairs) {
            if (pair == null || pair.size() != 2) {
                throw new IllegalArgumentException("starmap needs a list of exactly two arguments for each call; element "
                        + i + " is " + pair);
            }
            i++;
        }
        return map(new StarCall<T, T, R>(fn), argPairs);
    }

    @Override
    public <T, R> CompletableFuture<R> applyAsync(SerializableFunction<? super T, ? extends R> fn, T arg) {
        FunctionSpec spec = prepare(fn);
        MapJob<R> job = new MapJob<>(1, true);
        List<Object> inputs = new ArrayList<>(1);
        inputs.add(arg);
        submitAll(job, spec, inputs, 1);
        return job.future();
    }

    @Override
    public <T, R> Flow.Publisher<R> publish(SerializableFunction<? super T, ? extends R> fn, Iterable<? extends T> inputs,
                                            int chunkSize) {
        Objects.requireNonNull(fn, "fn");
        checkOpen();
        return publisher(engine, codec, fn, inputs, chunkSize, this::checkOpen);
    }

    /** A publisher over an engine; {@code checkOpen} throws when its owner takes no more work. */
    static <T, R> Flow.Publisher<R> publisher(Engine engine, Codec codec, SerializableFunction<? super T, ? extends R> fn,
                                              Iterable<? extends T> inputs, int chunkSize, Runnable checkOpen) {
        Objects.requireNonNull(fn, "fn");
        Objects.requireNonNull(inputs, "inputs");
        checkChunkSize(chunkSize);
        FunctionSpec spec = spec(engine, codec, fn);
        return new ResultPublisher<>(inputs::iterator, spec, chunkSize > 0 ? chunkSize : 1, window(engine, Math.max(1, chunkSize)), batch -> {
            checkOpen.run();
            engine.execute(batch);
        }, CALLBACKS);
    }

    /**
     * Batches a lazy call keeps open: two per worker and two spare, so no worker waits for the
     * consumer; with small chunks, enough for 64 inputs per worker, since each batch costs a round trip.
     */
    private static int window(Engine engine, int chunkSize) {
        if (engine.workers() >= 1024) {
            return 1024;
        }
        int perWorkerInputs = (64 + chunkSize - 1) / chunkSize;
        return Math.min(1024, Math.max(engine.workers() * 2 + 2, engine.workers() * perWorkerInputs));
    }

    private <T, R> Iterator<R> lazy(SerializableFunction<? super T, ? extends R> fn, Iterable<? extends T> inputs,
                                    int chunkSize, boolean ordered) {
        Objects.requireNonNull(inputs, "inputs");
        checkChunkSize(chunkSize);
        FunctionSpec spec = prepare(fn);
        int size = chunkSize > 0 ? chunkSize : 1;
        return new ResultIterator<>(inputs.iterator(), spec, size, window(engine, size), ordered, this::submit);
    }

    private void submitAll(MapJob<?> job, FunctionSpec spec, List<Object> all, int chunkSize) {
        boolean immutable = IMMUTABLE_LISTS.contains(all.getClass());
        for (int start = 0; start < all.size() && !job.isCancelled(); start += chunkSize) {
            int end = Math.min(all.size(), start + chunkSize);
            // An immutable input list is chunked by views, each encoded here, in bulk: no copy of it
            // at all (a mutable one is copied, so a retry sends what the caller passed).
            byte[] encoded = immutable && engine.shipsTasks() ? StandardCodec.encodeChunk(codec, all.subList(start, end)) : null;
            List<Object> chunk = encoded != null ? all.subList(start, end) : new ArrayList<>(all.subList(start, end));
            var batch = new BatchTask(spec, chunk, start, job, encoded);
            try {
                submit(batch);
            } catch (RejectedExecutionException e) {
                job.fail(new IllegalStateException("the pool was closed while this call was being submitted", e));
                return;
            }
        }
    }

    /** Lists nobody can change: a call may keep views of them. */
    private static final Set<Class<?>> IMMUTABLE_LISTS = Set.of(List.of(1).getClass(),
            List.of(1, 2, 3).getClass(), SegmentedList.class);

    private void submit(BatchTask batch) {
        checkOpen();
        engine.execute(batch);
    }

    /** Checks the pool takes calls and the function can travel; encodes it once for the call. */
    private FunctionSpec prepare(SerializableFunction<?, ?> fn) {
        Objects.requireNonNull(fn, "fn");
        checkOpen();
        return spec(engine, codec, fn);
    }

    /** Encodes a call's function (once per distinct function), refusing one that cannot travel, saying why. */
    @SuppressWarnings("unchecked")
    static FunctionSpec spec(Engine engine, Codec codec, SerializableFunction<?, ?> fn) {
        if (!engine.shipsTasks()) {
            return new FunctionSpec((SerializableFunction<Object, Object>) fn, null, FUNCTION_IDS.incrementAndGet());
        }
        try {
            return FunctionCache.of(codec).spec(fn, codec);
        } catch (NotSerializableException e) {
            throw new IllegalArgumentException("the function cannot be sent to worker JVMs: it captures a "
                    + e.getMessage() + ", which is not Serializable. Make that class implement "
                    + "java.io.Serializable, or capture only serializable values (copy the fields you need "
                    + "into local variables before the lambda).", e);
        } catch (IOException | RuntimeException e) {
            throw new IllegalArgumentException("the function cannot be sent to worker JVMs: " + e, e);
        }
    }

    private void checkOpen() {
        BrokenPoolException broken = engine.brokenReason();
        if (broken != null) {
            throw new BrokenPoolException(broken.getMessage(), broken);
        }
        synchronized (stateLock) {
            if (state != PoolState.RUNNING) {
                throw new IllegalStateException("the pool is " + state.name().toLowerCase()
                        + " and takes no new work; make calls before close(), or create a new pool");
            }
        }
    }

    private static void checkChunkSize(int chunkSize) {
        if (chunkSize < 0) {
            throw new IllegalArgumentException("chunkSize must be >= 1 (or 0 for the default), was " + chunkSize);
        }
    }

    /** Python's rule: ceil(n / (4 × workers)), at least 1. */
    private int defaultChunkSize(int n) {
        int workers = engine.workers();
        if (workers >= 1024) {
            return 1;
        }
        long per = 4L * workers;
        return (int) Math.max(1, (n + per - 1) / per);
    }

    /**
     * A random-access list is used as it is (chunks copy their part of it): the caller must not change
     * it until the call has submitted its chunks. Anything else is read into a list first, as Python does.
     */
    @SuppressWarnings("unchecked")
    private static List<Object> materialize(Iterable<?> inputs) {
        if (inputs instanceof List<?> list && list instanceof java.util.RandomAccess) {
            return (List<Object>) list;
        }
        List<Object> all = inputs instanceof Collection<?> c ? new ArrayList<>(c.size()) : new ArrayList<>();
        for (Object input : inputs) {
            all.add(input);
        }
        return all;
    }

    private static <V> V await(CompletableFuture<V> future, String call) {
        // Checked first: CompletableFuture.get() returns a result that is already there without
        // looking at the flag, so an interrupted caller would otherwise be cancelled only sometimes.
        if (Thread.currentThread().isInterrupted()) {
            future.cancel(false);
            throw new CancellationException("interrupted while waiting for " + call);
        }
        try {
            return future.get();
        } catch (InterruptedException e) {
            future.cancel(false);
            Thread.currentThread().interrupt();
            throw new CancellationException("interrupted while waiting for " + call);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof RuntimeException re) {
                throw re;
            }
            if (cause instanceof Error err) {
                throw err;
            }
            throw new IllegalStateException(cause);
        }
    }

    // ───────────────────────────── lifecycle ─────────────────────────────

    @Override
    public void close() {
        synchronized (stateLock) {
            if (state == PoolState.RUNNING) {
                state = PoolState.CLOSING;
            }
        }
        engine.shutdown();
        boolean interrupted = false;
        while (true) {
            try {
                engine.awaitTermination(Duration.ofDays(365));
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    /** How long terminate() waits for workers to stop: killed JVMs exit in milliseconds. */
    private static final Duration TERMINATE_WAIT = Duration.ofSeconds(10);

    @Override
    public void terminate() {
        synchronized (stateLock) {
            state = PoolState.CLOSING;
        }
        var cancelled = new CancellationException("the pool was terminated before this task started");
        for (var batch : engine.shutdownNow()) {
            batch.fail(0, cancelled);
        }
        // Wait for the workers to be gone, so state() says TERMINATED when this returns; a thread
        // that ignores its interrupt may outlive the wait, and state() then says CLOSING until it ends.
        boolean interrupted = Thread.interrupted();
        long deadline = System.nanoTime() + TERMINATE_WAIT.toNanos();
        while (true) {
            try {
                engine.awaitTermination(Duration.ofNanos(Math.max(0, deadline - System.nanoTime())));
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public boolean awaitTermination(Duration timeout) throws InterruptedException {
        return engine.awaitTermination(timeout);
    }

    /** Adapts a two-argument function to pairs; a class, not a lambda, so it serializes plainly. */
    private record StarCall<A, B, R>(SerializableBiFunction<? super A, ? super B, ? extends R> fn)
            implements SerializableFunction<List<?>, R> {
        @Serial
        private static final long serialVersionUID = 1L;

        @Override
        @SuppressWarnings("unchecked")
        public R apply(List<?> pair) {
            return fn.apply((A) pair.get(0), (B) pair.get(1));
        }
    }
}
