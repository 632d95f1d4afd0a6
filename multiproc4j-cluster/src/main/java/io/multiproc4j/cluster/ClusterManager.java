package io.multiproc4j.cluster;

import com.hazelcast.client.HazelcastClient;
import com.hazelcast.config.QueueConfig;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.map.IMap;
import io.multiproc4j.cluster.internal.HazelcastSettings;
import io.multiproc4j.cluster.internal.InterruptibleQueue;
import io.multiproc4j.cluster.internal.Keys;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.Lock;

/**
 * Shared objects that live in the cluster, behind the Java interfaces: Hazelcast's distributed
 * map, queue, list and set, a lock with a lease, and an atomic counter. They outlive this client;
 * they live as long as the members (a member that leaves hands its partitions to the others).
 *
 * {@snippet :
 * try (ClusterManager objects = ClusterManager.connect(config)) {
 *     Map<String, Integer> scores = objects.map("scores");
 *     BlockingQueue<String> inbox = objects.queue("inbox");
 *     Lock lock = objects.lock("settings");      // a holder that vanished does not block for ever
 *     long n = objects.counter("jobs").incrementAndGet();
 * }
 * }
 *
 * The Community Edition has no CP subsystem (its {@code FencedLock} and {@code IAtomicLong} are
 * Enterprise-only), so the lock is {@code IMap.lock} with a lease and the counter an entry
 * processor on an {@code IMap} entry: both are held by the partition owner, and stay correct while
 * members come and go, but not across a network split (see the README).
 */
public final class ClusterManager implements AutoCloseable {
    private static final String LOCKS = "multiproc4j.locks";
    private static final String COUNTERS = "multiproc4j.counters";

    private final HazelcastInstance client;
    private final Duration lease;

    private ClusterManager(HazelcastInstance client, Duration lease) {
        this.client = client;
        this.lease = lease;
    }

    /**
     * Connects with the config's members and key; locks get a lease of 60 s.
     *
     * @param config members and key
     * @return the manager
     * @throws IllegalStateException when no member holding the key answers in time
     */
    public static ClusterManager connect(ClusterConfig config) {
        return connect(config, Duration.ofSeconds(60));
    }

    /**
     * @param config    members and key
     * @param lockLease how long a lock stays held at most: past it, a holder that vanished (or hung)
     *                  loses it and the next locker gets it
     * @return the manager
     */
    public static ClusterManager connect(ClusterConfig config, Duration lockLease) {
        Objects.requireNonNull(config, "config");
        Objects.requireNonNull(lockLease, "lockLease");
        if (lockLease.isNegative() || lockLease.isZero()) {
            throw new IllegalArgumentException("lockLease must be positive, was " + lockLease);
        }
        Keys keys = new Keys(config.requireKey());
        try {
            return new ClusterManager(HazelcastClient.newHazelcastClient(HazelcastSettings.client(
                    keys.clusterName(config.clusterName()), config.members(), config.connectTimeout().toMillis())), lockLease);
        } catch (IllegalStateException e) {
            throw new IllegalStateException("no member holding this key answered at " + config.members() + " within "
                    + config.connectTimeout().toSeconds() + " s: check the key file and cluster name match the workers'", e);
        }
    }

    /**
     * @param name the map's name
     * @param <K>  key type
     * @param <V>  value type
     * @return the distributed map
     */
    public <K, V> Map<K, V> map(String name) {
        return client.getMap(name(name));
    }

    /**
     * @param name the queue's name
     * @param <E>  element type
     * @return the distributed queue, unbounded
     */
    public <E> BlockingQueue<E> queue(String name) {
        return new InterruptibleQueue<>(client.getQueue(name(name)));
    }

    /**
     * @param name     the queue's name
     * @param capacity the most elements it holds; {@code put} waits and {@code offer} refuses beyond it
     * @param <E>      element type
     * @return the distributed queue
     */
    public <E> BlockingQueue<E> queue(String name, int capacity) {
        if (capacity < 1) {
            throw new IllegalArgumentException("capacity must be >= 1, was " + capacity);
        }
        client.getConfig().addQueueConfig(new QueueConfig(name(name)).setMaxSize(capacity));
        return new InterruptibleQueue<>(client.getQueue(name(name)));
    }

    /**
     * @param name the list's name
     * @param <E>  element type
     * @return the distributed list
     */
    public <E> List<E> list(String name) {
        return client.getList(name(name));
    }

    /**
     * @param name the set's name
     * @param <E>  element type
     * @return the distributed set
     */
    public <E> Set<E> set(String name) {
        return client.getSet(name(name));
    }

    /**
     * A reentrant lock held by the calling thread of this client, for at most the lease: a holder
     * whose JVM died loses it when the cluster notices the client is gone, and a hung one when the
     * lease ends. It has no conditions.
     *
     * @param name the lock's name
     * @return the lock
     */
    public Lock lock(String name) {
        return new LeaseLock(client.getMap(LOCKS), name(name), lease.toMillis());
    }

    /**
     * @param name the counter's name
     * @return an atomic counter, starting at 0
     */
    public ClusterCounter counter(String name) {
        return new ClusterCounter(client.getMap(COUNTERS), name(name));
    }

    private static String name(String name) {
        Objects.requireNonNull(name, "name");
        if (name.isBlank()) {
            throw new IllegalArgumentException("a shared object needs a non-blank name");
        }
        return name;
    }

    /** Disconnects; the objects stay in the cluster. */
    @Override
    public void close() {
        client.shutdown();
    }

    /** {@code IMap.lock} behind {@link Lock}. */
    private record LeaseLock(IMap<String, Boolean> locks, String key, long leaseMillis) implements Lock {
        @Override
        public void lock() {
            locks.lock(key, leaseMillis, TimeUnit.MILLISECONDS);
        }

        @Override
        public void lockInterruptibly() throws InterruptedException {
            // IMap.lock cannot be interrupted: wait in short tries, checking for the interrupt between them
            while (true) {
                if (Thread.interrupted()) {
                    throw new InterruptedException("interrupted while waiting for cluster lock " + key);
                }
                if (tryFor(50)) {
                    return;
                }
            }
        }

        @Override
        public boolean tryLock() {
            try {
                return locks.tryLock(key, 0, TimeUnit.MILLISECONDS, leaseMillis, TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }

        @Override
        public boolean tryLock(long time, TimeUnit unit) throws InterruptedException {
            long deadline = System.nanoTime() + unit.toNanos(time);
            while (true) {
                if (Thread.interrupted()) {
                    throw new InterruptedException("interrupted while waiting for cluster lock " + key);
                }
                long left = deadline - System.nanoTime();
                long step = Math.max(0, Math.min(TimeUnit.NANOSECONDS.toMillis(left), 50));
                if (tryFor(step)) {
                    return true;
                }
                if (deadline - System.nanoTime() <= 0) {
                    return false;
                }
            }
        }

        /** One try of up to {@code millis}; Hazelcast wraps an interrupt, which we unwrap. */
        private boolean tryFor(long millis) throws InterruptedException {
            try {
                return locks.tryLock(key, millis, TimeUnit.MILLISECONDS, leaseMillis, TimeUnit.MILLISECONDS);
            } catch (com.hazelcast.core.HazelcastException e) {
                if (e.getCause() instanceof InterruptedException || Thread.currentThread().isInterrupted()) {
                    Thread.interrupted();
                    throw new InterruptedException("interrupted while waiting for cluster lock " + key);
                }
                throw e;
            }
        }

        @Override
        public void unlock() {
            locks.unlock(key);
        }

        @Override
        public Condition newCondition() {
            throw new UnsupportedOperationException("cluster locks have no conditions (Hazelcast's ICondition is part "
                    + "of the Enterprise CP subsystem); wait on a ClusterManager.queue instead");
        }
    }
}
