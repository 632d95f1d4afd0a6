package io.multiproc4j.cluster;

import io.multiproc4j.Pool;
import io.multiproc4j.PoolState;
import io.multiproc4j.SerializableBiFunction;
import io.multiproc4j.SerializableFunction;
import io.multiproc4j.TaskExecutor;
import io.multiproc4j.cluster.internal.ClusterEngine;
import io.multiproc4j.spi.Codec;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Iterator;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Flow;

/**
 * The {@link Pool} on a cluster: the same calls as {@code Pool.processes(n)}, with chunks running
 * on Hazelcast members on many machines.
 *
 * {@snippet :
 * try (Pool pool = ClusterPool.connect(config)) {                 // members started with 'multiproc worker'
 *     List<Integer> out = pool.map(x -> x + 1, inputs, 10_000);    // ordered; each result exactly once
 * }
 * try (Pool pool = ClusterPool.local(3)) { ... }                   // 3 members on loopback, stopped on close
 * }
 *
 * <h2>What differs from a local pool</h2>
 * <ul>
 *   <li>{@code map}'s default chunk size is {@code ceil(n / (16 × capacity))}, not Python's
 *       {@code ceil(n / (4 × workers))}: a chunk costs a network round trip (about 0.5 ms), which
 *       16 chunks per worker slot keep small next to any real work, while a member that is lost
 *       or slow holds a 16th of its share instead of a quarter, so less runs again and the tail is
 *       shorter.</li>
 *   <li>A member that leaves mid-chunk has its chunks run again elsewhere, up to
 *       {@link ClusterConfig#retries} times; the caller sees each result once, in order.</li>
 *   <li>{@code workers()} is the capacity of the members there now; it changes as they come and go.</li>
 * </ul>
 */
public final class ClusterPool implements Pool {
    private static final int CHUNKS_PER_WORKER = 16;

    private final Pool pool;
    private final ClusterEngine engine;
    private final LocalCluster owned;

    private ClusterPool(ClusterEngine engine, LocalCluster owned) {
        this.engine = engine;
        this.owned = owned;
        this.pool = Pool.builder().engine(engine).codec(Codec.standard()).build();
    }

    /**
     * What one member is doing, as this client sees it.
     *
     * @param address  {@code host:port}
     * @param pid      the member JVM's pid
     * @param capacity chunks it runs at once
     * @param inFlight chunks it holds now
     * @param done     chunks it finished for this client
     */
    public record MemberState(String address, long pid, int capacity, int inFlight, long done) {}

    /**
     * A member lost while it held chunks of this client, which ran again elsewhere.
     *
     * @param member      {@code host:port}
     * @param chunks      how many chunks it held
     * @param lostAtNanos when the loss was noticed ({@link System#nanoTime()})
     * @param doneAtNanos when the last of those chunks had run again, or 0 while one has not
     */
    public record MemberLoss(String member, int chunks, long lostAtNanos, long doneAtNanos) {}

    /**
     * Connects to a cluster of workers started with {@code multiproc worker}.
     *
     * @param config members, key and options
     * @return the pool
     * @throws IllegalStateException when no member holding the key answers within
     *     {@link ClusterConfig#connectTimeout()}: the message says whether nothing listens or the key
     *     differs
     */
    public static ClusterPool connect(ClusterConfig config) {
        return new ClusterPool(engine(config), null);
    }

    /**
     * @param config members, key and options
     * @return an {@link java.util.concurrent.ExecutorService} on the cluster whose futures are
     *     {@link CompletableFuture}s
     */
    public static TaskExecutor executor(ClusterConfig config) {
        return Pool.builder().engine(engine(config)).codec(Codec.standard()).buildExecutor();
    }

    /**
     * Starts {@code members} worker members on loopback, as child JVMs of this one (they share this
     * machine's processors: each runs {@code max(1, processors / members)} chunks at once), and
     * connects to them. They stop when the
     * pool closes, and within a second when this JVM dies.
     *
     * @param members how many members
     * @return the pool
     */
    public static ClusterPool local(int members) {
        LocalCluster cluster = LocalCluster.start(members);
        try {
            ClusterPool pool = new ClusterPool(engine(cluster.config()), cluster);
            pool.awaitMembers(members, Duration.ofSeconds(60));
            return pool;
        } catch (RuntimeException e) {
            cluster.close();
            throw e;
        }
    }

    private static ClusterEngine engine(ClusterConfig config) {
        Objects.requireNonNull(config, "config");
        return ClusterEngine.connect(config.clusterName(), config.members(), config.requireKey(), config.retries(),
                config.taskTimeout(), config.prefetch(), config.maxInFlight(), config.connectTimeout(),
                config.memberWaitTimeout(), config.allowedMemberHosts(), config.allowedPackages());
    }

    /**
     * Waits until this client uses {@code count} members.
     *
     * @param count   how many
     * @param timeout how long at most
     * @throws IllegalStateException at the deadline, naming the members there
     */
    public void awaitMembers(int count, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (engine.members().size() < count) {
            if (System.nanoTime() - deadline > 0) {
                throw new IllegalStateException("waited " + timeout.toSeconds() + " s for " + count
                        + " members; the client uses " + engine.members());
            }
            java.util.concurrent.locks.LockSupport.parkNanos(10_000_000);
        }
    }

    /** @return the members that get work now, with what each holds */
    public List<MemberState> members() {
        return engine.members();
    }

    /** @return every member loss that sent chunks elsewhere, oldest first */
    public List<MemberLoss> memberLosses() {
        return engine.recoveries();
    }

    /** @return the local cluster this pool started and stops, or {@code null} */
    public LocalCluster localCluster() {
        return owned;
    }

    @Override
    public int workers() {
        return pool.workers();
    }

    @Override
    public PoolState state() {
        return pool.state();
    }

    @Override
    public io.multiproc4j.PoolStats stats() {
        return pool.stats();
    }

    @Override
    public <T, R> List<R> map(SerializableFunction<? super T, ? extends R> fn, Iterable<? extends T> inputs, int chunkSize) {
        if (chunkSize != 0 || inputs == null || fn == null) {
            return pool.map(fn, inputs, chunkSize);
        }
        List<? extends T> all = materialize(inputs);
        return pool.map(fn, all, defaultChunkSize(all.size()));
    }

    @Override
    public <T, R> CompletableFuture<List<R>> mapAsync(SerializableFunction<? super T, ? extends R> fn,
                                                      Iterable<? extends T> inputs, int chunkSize) {
        if (chunkSize != 0 || inputs == null || fn == null) {
            return pool.mapAsync(fn, inputs, chunkSize);
        }
        List<? extends T> all = materialize(inputs);
        return pool.mapAsync(fn, all, defaultChunkSize(all.size()));
    }

    private int defaultChunkSize(int n) {
        long per = (long) CHUNKS_PER_WORKER * engine.workers();
        return (int) Math.max(1, (n + per - 1) / per);
    }

    private static <T> List<? extends T> materialize(Iterable<? extends T> inputs) {
        if (inputs instanceof List<? extends T> list && list instanceof java.util.RandomAccess) {
            return list;
        }
        List<T> all = inputs instanceof Collection<?> c ? new ArrayList<>(c.size()) : new ArrayList<>();
        for (T input : inputs) {
            all.add(input);
        }
        return all;
    }

    @Override
    public <T, R> Iterator<R> imap(SerializableFunction<? super T, ? extends R> fn, Iterable<? extends T> inputs, int chunkSize) {
        return pool.imap(fn, inputs, chunkSize);
    }

    @Override
    public <T, R> Iterator<R> imapUnordered(SerializableFunction<? super T, ? extends R> fn, Iterable<? extends T> inputs,
                                            int chunkSize) {
        return pool.imapUnordered(fn, inputs, chunkSize);
    }

    @Override
    public <T, R> List<R> starmap(SerializableBiFunction<? super T, ? super T, ? extends R> fn,
                                  Iterable<? extends List<? extends T>> argPairs) {
        return pool.starmap(fn, argPairs);
    }

    @Override
    public <T, R> CompletableFuture<R> applyAsync(SerializableFunction<? super T, ? extends R> fn, T arg) {
        return pool.applyAsync(fn, arg);
    }

    @Override
    public <T, R> Flow.Publisher<R> publish(SerializableFunction<? super T, ? extends R> fn, Iterable<? extends T> inputs,
                                            int chunkSize) {
        return pool.publish(fn, inputs, chunkSize);
    }

    /** Finishes accepted work, disconnects, and stops the local cluster this pool started. */
    @Override
    public void close() {
        try {
            pool.close();
        } finally {
            if (owned != null) {
                owned.close();
            }
        }
    }

    /** Fails unfinished work with {@link java.util.concurrent.CancellationException}, disconnects, stops the local cluster. */
    @Override
    public void terminate() {
        try {
            pool.terminate();
        } finally {
            if (owned != null) {
                owned.close();
            }
        }
    }

    @Override
    public boolean awaitTermination(Duration timeout) throws InterruptedException {
        return pool.awaitTermination(timeout);
    }
}
