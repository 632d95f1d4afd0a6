package io.multiproc4j.ipc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.multiproc4j.internal.shm.Segment;
import java.io.Serializable;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** {@link ProcessQueue} and {@link JoinableProcessQueue} within one JVM (threads): blocking forms, counts, shutdown. */
@Timeout(60)
class ProcessQueueTest {

    @Test
    void fullQueue_eachPutForm_behaves() throws Exception {
        try (ProcessQueue<Integer> q = ProcessQueue.create(2)) {
            assertThat(q.offer(1)).isTrue();
            q.put(2);
            assertThat(q.remainingCapacity()).isZero();
            assertThat(q.offer(3)).isFalse();
            long t0 = System.nanoTime();
            assertThat(q.offer(3, 200, TimeUnit.MILLISECONDS)).isFalse();
            assertThat(System.nanoTime() - t0).as("a timed offer waits about its timeout")
                    .isGreaterThanOrEqualTo(TimeUnit.MILLISECONDS.toNanos(190));
            assertThatThrownBy(() -> q.add(3)).isInstanceOf(IllegalStateException.class);
            CompletableFuture<Void> putter = CompletableFuture.runAsync(() -> Conditions.call(() -> {
                q.put(3);
                return null;
            }));
            assertThatThrownBy(() -> putter.get(100, TimeUnit.MILLISECONDS)).isInstanceOf(TimeoutException.class);
            assertThat(q.take()).isEqualTo(1);
            putter.get(10, TimeUnit.SECONDS);
            assertThat(q).containsExactly(2, 3);
        }
    }

    @Test
    void emptyQueue_eachTakeForm_behaves() throws Exception {
        try (ProcessQueue<String> q = ProcessQueue.create(4)) {
            assertThat(q.poll()).isNull();
            assertThat(q.peek()).isNull();
            long t0 = System.nanoTime();
            assertThat(q.poll(300, TimeUnit.MILLISECONDS)).isNull();
            assertThat(System.nanoTime() - t0).as("a timed poll waits about its timeout")
                    .isGreaterThanOrEqualTo(TimeUnit.MILLISECONDS.toNanos(290));
            assertThatThrownBy(q::remove).isInstanceOf(java.util.NoSuchElementException.class);
            CountDownLatch taking = new CountDownLatch(1);
            CompletableFuture<String> taker = CompletableFuture.supplyAsync(() -> Conditions.call(() -> {
                taking.countDown();
                return q.take();
            }));
            assertThat(taking.await(10, TimeUnit.SECONDS)).isTrue();
            assertThatThrownBy(() -> taker.get(100, TimeUnit.MILLISECONDS)).isInstanceOf(TimeoutException.class);
            q.put("x");
            assertThat(taker.get(10, TimeUnit.SECONDS)).isEqualTo("x");
        }
    }

    @Test
    void size_countsPutsAndTakes() throws Exception {
        try (ProcessQueue<Integer> q = ProcessQueue.create(100)) {
            assertThat(q.size()).isZero();
            for (int i = 0; i < 10; i++) {
                q.put(i);
            }
            assertThat(q.size()).isEqualTo(10);
            assertThat(q.remainingCapacity()).isEqualTo(90);
            q.take();
            q.poll();
            assertThat(q.size()).isEqualTo(8);
            assertThat(q.remove(Integer.valueOf(5))).isTrue();
            assertThat(q.size()).isEqualTo(7);
            List<Integer> out = new ArrayList<>();
            assertThat(q.drainTo(out, 3)).isEqualTo(3);
            assertThat(out).containsExactly(2, 3, 4);
            assertThat(q.drainTo(out)).isEqualTo(4);
            assertThat(out).containsExactly(2, 3, 4, 6, 7, 8, 9);
            assertThat(q.size()).isZero();
            assertThat(q.isEmpty()).isTrue();
        }
    }

    @Test
    void ringBytes_wrapAround_keepsMessagesWhole() throws Exception {
        try (ProcessQueue<String> q = ProcessQueue.create(1_000, 4096)) {
            for (int round = 0; round < 200; round++) {
                String s = "m" + round + "-" + "x".repeat(round % 97 * 7);
                q.put(s);
                q.put(s + "!");
                assertThat(q.take()).isEqualTo(s);
                assertThat(q.take()).isEqualTo(s + "!");
            }
            assertThat(q.size()).isZero();
        }
    }

    @Test
    void putWaits_whileRingBytesAreFull_evenWithCapacityLeft() throws Exception {
        try (ProcessQueue<byte[]> q = ProcessQueue.create(1_000, 4096)) {
            int puts = 0;
            while (q.offer(new byte[900])) {
                puts++;
            }
            assertThat(puts).isBetween(3, 4);
            assertThat(q.remainingCapacity()).isGreaterThan(900);
            q.take();
            assertThat(q.offer(new byte[900], 10, TimeUnit.SECONDS)).isTrue();
        }
    }

    @Test
    void unserializablePut_isRefusedClearly_andQueueKeepsWorking() throws Exception {
        try (ProcessQueue<Object> q = ProcessQueue.create(10)) {
            q.put("before");
            Object bad = new Object();
            assertThatThrownBy(() -> q.put(bad)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("java.lang.Object").hasMessageContaining("Serializable");
            assertThatThrownBy(() -> q.offer(List.of(new NotSerializable()))).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining(NotSerializable.class.getName());
            assertThat(q.size()).isEqualTo(1);
            q.put("after");
            assertThat(q.take()).isEqualTo("before");
            assertThat(q.take()).isEqualTo("after");
            assertThat(q.size()).isZero();
        }
    }

    @Test
    void nullPut_isRefused() {
        try (ProcessQueue<Object> q = ProcessQueue.create(10)) {
            assertThatThrownBy(() -> q.put(null)).isInstanceOf(NullPointerException.class);
        }
    }

    @Test
    void badCapacity_isRefusedClearly() {
        assertThatThrownBy(() -> ProcessQueue.create(0)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("at least 1");
        assertThatThrownBy(() -> ProcessQueue.create(10, 5000)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("power of two");
    }

    @Test
    void shutdown_failsPuts_drainsThenFailsTakes() throws Exception {
        try (ProcessQueue<Integer> q = ProcessQueue.create(10)) {
            q.put(1);
            q.put(2);
            q.shutdown();
            assertThat(q.isShutdown()).isTrue();
            assertThatThrownBy(() -> q.put(3)).isInstanceOf(QueueShutdownException.class).hasMessageContaining("shut down");
            assertThat(q.take()).isEqualTo(1);
            assertThat(q.poll(1, TimeUnit.SECONDS)).isEqualTo(2);
            assertThatThrownBy(q::take).isInstanceOf(QueueShutdownException.class).hasMessageContaining("drained");
            assertThatThrownBy(() -> q.poll(1, TimeUnit.SECONDS)).isInstanceOf(QueueShutdownException.class);
            assertThat(q.poll()).isNull();
        }
    }

    @Test
    void shutdownImmediate_dropsItems_andWakesBlockedTakers() throws Exception {
        try (ProcessQueue<Integer> q = ProcessQueue.create(10); ProcessQueue<Integer> empty = ProcessQueue.create(1)) {
            q.put(1);
            q.shutdown(true);
            assertThat(q.size()).isZero();
            assertThatThrownBy(q::take).isInstanceOf(QueueShutdownException.class).hasMessageContaining("immediately");

            CountDownLatch taking = new CountDownLatch(1);
            CompletableFuture<Integer> taker = CompletableFuture.supplyAsync(() -> Conditions.call(() -> {
                taking.countDown();
                return empty.take();
            }));
            assertThat(taking.await(10, TimeUnit.SECONDS)).isTrue();
            empty.shutdown();
            assertThatThrownBy(() -> taker.get(10, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
                    .hasCauseInstanceOf(QueueShutdownException.class);
        }
    }

    /** OPEN → SHUTDOWN → SHUTDOWN_IMMEDIATE, never back. */
    @Test
    void shutdownStates_walkForwardOnly() throws Exception {
        try (ProcessQueue<Integer> q = ProcessQueue.create(10)) {
            assertThat(q.isShutdown()).isFalse();
            q.put(1);
            q.put(2);
            q.shutdown();
            assertThat(q.isShutdown()).isTrue();
            assertThat(q.size()).as("a draining shutdown keeps the items").isEqualTo(2);
            q.shutdown(true);
            assertThat(q.size()).as("immediate drops them").isZero();
            q.shutdown(false);
            assertThat(q.isShutdown()).isTrue();
            assertThatThrownBy(q::take).isInstanceOf(QueueShutdownException.class).hasMessageContaining("immediately");
        }
    }

    @Test
    void closedQueue_failsClearly() {
        ProcessQueue<Integer> q = ProcessQueue.create(10);
        String name = q.name();
        q.close();
        q.close();
        assertThatThrownBy(() -> q.put(1)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining(name).hasMessageContaining("closed");
        assertThatThrownBy(q::size).isInstanceOf(IllegalStateException.class);
        assertThat(Segment.pathOf(name)).doesNotExist();
    }

    @Test
    void creatorClose_shutsDownForOtherHandles() throws Exception {
        ProcessQueue<Integer> q = ProcessQueue.create(10);
        ProcessQueue<Integer> other = ProcessQueue.attach(q.name());
        try {
            q.put(1);
            q.close();
            assertThat(other.take()).isEqualTo(1);
            assertThatThrownBy(other::take).isInstanceOf(QueueShutdownException.class);
        } finally {
            other.close();
        }
    }

    @Test
    void creatorClose_wakesATakerBlockedInThisProcess() throws Exception {
        ProcessQueue<Integer> q = ProcessQueue.create(10);
        CountDownLatch taking = new CountDownLatch(1);
        CompletableFuture<Integer> taker = CompletableFuture.supplyAsync(() -> Conditions.call(() -> {
            taking.countDown();
            return q.take();
        }));
        assertThat(taking.await(10, TimeUnit.SECONDS)).isTrue();
        Conditions.await("the taker sleeps", Duration.ofSeconds(10), () -> q.ring.sleepingTakers() > 0);
        q.close();
        assertThatThrownBy(() -> taker.get(10, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
                .hasCauseInstanceOf(QueueShutdownException.class);
    }

    @Test
    void take_isInterruptible_andEatsNothing() throws Exception {
        try (ProcessQueue<Integer> q = ProcessQueue.create(10)) {
            AtomicReference<Throwable> failure = new AtomicReference<>();
            CountDownLatch entered = new CountDownLatch(1);
            Thread taker = new Thread(() -> {
                entered.countDown();
                try {
                    q.take();
                } catch (Throwable t) {
                    failure.set(t);
                }
            });
            taker.start();
            assertThat(entered.await(10, TimeUnit.SECONDS)).isTrue();
            taker.interrupt();
            taker.join(10_000);
            assertThat(failure.get()).isInstanceOf(InterruptedException.class);
            q.put(7);
            assertThat(q.poll(1, TimeUnit.SECONDS)).isEqualTo(7);
        }
    }

    @Test
    void hugeElement_goesThroughSpillFile_andRoundTrips() throws Exception {
        try (ProcessQueue<byte[]> q = ProcessQueue.create(4)) {
            byte[] big = new byte[16 << 20];
            for (int i = 0; i < big.length; i += 4093) {
                big[i] = (byte) i;
            }
            q.put(big);
            q.put(new byte[] {1});
            assertThat(q.size()).isEqualTo(2);
            assertThat(q.peek()).isEqualTo(big);
            assertThat(q.take()).isEqualTo(big);
            assertThat(q.take()).containsExactly(1);
        }
    }

    @Test
    void joinable_taskDoneAndJoin() throws Exception {
        try (JoinableProcessQueue<Integer> q = JoinableProcessQueue.create(10)) {
            assertThat(q.join(Duration.ZERO)).isTrue();
            q.put(1);
            q.put(2);
            assertThat(q.unfinishedTasks()).isEqualTo(2);
            assertThat(q.join(Duration.ofMillis(50))).isFalse();
            CompletableFuture<Void> joiner = CompletableFuture.runAsync(() -> Conditions.call(() -> {
                q.join();
                return null;
            }));
            q.take();
            q.taskDone();
            assertThatThrownBy(() -> joiner.get(50, TimeUnit.MILLISECONDS)).isInstanceOf(TimeoutException.class);
            q.take();
            q.taskDone();
            joiner.get(10, TimeUnit.SECONDS);
            assertThatThrownBy(q::taskDone).isInstanceOf(IllegalStateException.class).hasMessageContaining("more times");
        }
    }

    @Test
    void joinable_immediateShutdown_countsDroppedAsDone() throws Exception {
        try (JoinableProcessQueue<Integer> q = JoinableProcessQueue.create(10)) {
            q.put(1);
            q.put(2);
            q.shutdown(true);
            assertThat(q.unfinishedTasks()).isZero();
            assertThat(q.join(Duration.ofSeconds(1))).isTrue();
        }
    }

    /** Not serializable on purpose. */
    static final class NotSerializable {
    }

    /** A serializable value for tests. */
    record Item(int producer, int seq) implements Serializable {}
}
