package io.multiproc4j.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.multiproc4j.testkit.BlockingQueueContract;
import io.multiproc4j.testkit.Conditions;
import io.multiproc4j.testkit.LockContract;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.Lock;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/**
 * Shared objects in a two-member loopback cluster: the testkit's lock and queue contracts, and what
 * is particular to the cluster (a lease that frees a lock whose holder vanished, counters that lose
 * no update, objects seen by another client and by tasks).
 */
class ClusterManagerTest {
    private static final AtomicInteger NAMES = new AtomicInteger();
    private static LocalCluster cluster;
    private static ClusterManager objects;

    @BeforeAll
    static void start() {
        cluster = LocalCluster.start(2, 2);
        objects = ClusterManager.connect(cluster.config());
    }

    @AfterAll
    static void stop() {
        if (objects != null) {
            objects.close();
        }
        if (cluster != null) {
            SharedCluster.closeAndCheck(cluster);
        }
    }

    @Nested
    class Locks extends LockContract {
        @Override
        protected Lock newLock() {
            return objects.lock("lock-" + NAMES.incrementAndGet());
        }

        @Override
        protected boolean isReentrant() {
            return true;
        }

        @Override
        protected boolean supportsConditions() {
            return false;
        }
    }

    @Nested
    class Queues extends BlockingQueueContract {
        @Override
        protected BlockingQueue<Integer> newQueue(int capacity) {
            String name = "queue-" + NAMES.incrementAndGet();
            return capacity == 0 ? objects.queue(name) : objects.queue(name, capacity);
        }
    }

    @Test
    void lockOfAClientThatVanished_isFreedByTheLease() throws Exception {
        String name = "leased-" + NAMES.incrementAndGet();
        try (ClusterManager holder = ClusterManager.connect(cluster.config(), Duration.ofSeconds(2))) {
            holder.lock(name).lock(); // held, never unlocked
            assertThat(objects.lock(name).tryLock()).isFalse();
        }
        // the holder is gone (its client closed without unlocking); the lock is free again at the latest after the lease
        Lock lock = objects.lock(name);
        assertThat(lock.tryLock(30, TimeUnit.SECONDS)).isTrue();
        lock.unlock();
    }

    @Test
    void counter_losesNoUpdate_fromManyThreads() throws Exception {
        ClusterCounter counter = objects.counter("count-" + NAMES.incrementAndGet());
        List<CompletableFuture<Void>> threads = new ArrayList<>();
        for (int t = 0; t < 4; t++) {
            threads.add(CompletableFuture.runAsync(() -> {
                for (int i = 0; i < 250; i++) {
                    counter.incrementAndGet();
                }
            }));
        }
        for (var t : threads) {
            t.get(60, TimeUnit.SECONDS);
        }
        assertThat(counter.get()).isEqualTo(1_000);
        assertThat(counter.addAndGet(-1_000)).isZero();
    }

    @Test
    void mapListAndSet_areSeenByAnotherClient() {
        String name = "shared-" + NAMES.incrementAndGet();
        Map<String, Integer> scores = objects.map(name);
        scores.put("a", 1);
        scores.merge("a", 41, Integer::sum);
        objects.<String>list(name).addAll(List.of("x", "y"));
        objects.<String>set(name).add("only");
        try (ClusterManager other = ClusterManager.connect(cluster.config())) {
            assertThat(other.<String, Integer>map(name)).containsEntry("a", 42);
            assertThat(other.<String>list(name)).containsExactly("x", "y");
            assertThat(other.<String>set(name)).containsExactly("only");
        }
    }

    @Test
    void queue_carriesWorkBetweenClients() throws Exception {
        String name = "inbox-" + NAMES.incrementAndGet();
        BlockingQueue<String> inbox = objects.queue(name);
        try (ClusterManager other = ClusterManager.connect(cluster.config())) {
            var taker = CompletableFuture.supplyAsync(() -> {
                try {
                    return other.<String>queue(name).take();
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            });
            inbox.put("hello");
            assertThat(taker.get(30, TimeUnit.SECONDS)).isEqualTo("hello");
        }
        Conditions.await("the queue to be empty", Duration.ofSeconds(10), inbox::isEmpty);
    }

    @Test
    void badArguments_failAtTheCall() {
        assertThatThrownBy(() -> objects.map(" ")).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("name");
        assertThatThrownBy(() -> objects.queue("q", 0)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("capacity");
        assertThatThrownBy(() -> objects.lock("l").newCondition()).isInstanceOf(UnsupportedOperationException.class)
                .hasMessageContaining("queue");
        assertThatThrownBy(() -> ClusterManager.connect(cluster.config(), Duration.ZERO))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("lockLease");
    }
}
