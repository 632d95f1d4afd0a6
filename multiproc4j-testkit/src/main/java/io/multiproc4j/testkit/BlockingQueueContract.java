package io.multiproc4j.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The {@link BlockingQueue} contract, for every backend (a process queue, a manager's queue proxy,
 * the JDK's own as a sanity check). A binding implements {@link #newQueue(int)}; each test takes a
 * fresh queue. Blocking behaviour is checked with a second thread and latches, never with sleeps:
 * "still blocked" is observed as "a timed poll/offer gave up", which is the contract's own answer.
 */
@Timeout(60)
public abstract class BlockingQueueContract {
    /** Constructor for subclasses. */
    protected BlockingQueueContract() {}

    /**
     * @param capacity the queue's capacity, or 0 for unbounded
     * @return a fresh, empty queue
     */
    protected abstract BlockingQueue<Integer> newQueue(int capacity);

    /** Tells a consumer to stop; producers never put it. */
    private static final Integer POISON = -1;

    @Test
    void offerAndPoll_areFifo() {
        BlockingQueue<Integer> q = newQueue(0);
        for (int i = 0; i < 5; i++) {
            assertThat(q.offer(i)).isTrue();
        }
        assertThat(q.size()).isEqualTo(5);
        assertThat(q.peek()).isZero();
        for (int i = 0; i < 5; i++) {
            assertThat(q.poll()).isEqualTo(i);
        }
        assertThat(q.poll()).isNull();
        assertThat(q.isEmpty()).isTrue();
    }

    @Test
    void boundedQueue_refusesWhenFull() throws Exception {
        BlockingQueue<Integer> q = newQueue(2);
        assertThat(q.offer(1)).isTrue();
        assertThat(q.offer(2)).isTrue();
        assertThat(q.remainingCapacity()).isZero();
        assertThat(q.offer(3)).isFalse();
        assertThat(q.offer(3, 50, TimeUnit.MILLISECONDS)).isFalse();
        assertThatThrownBy(() -> q.add(3)).isInstanceOf(IllegalStateException.class);
        assertThat(q).containsExactly(1, 2);
    }

    @Test
    void timedPoll_onEmpty_returnsNull() throws Exception {
        assertThat(newQueue(0).poll(50, TimeUnit.MILLISECONDS)).isNull();
    }

    @Test
    void take_waitsForPut_fromAnotherThread() throws Exception {
        BlockingQueue<Integer> q = newQueue(0);
        var taking = new CountDownLatch(1);
        CompletableFuture<Integer> taken = CompletableFuture.supplyAsync(() -> {
            taking.countDown();
            try {
                return q.take();
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
        assertThat(taking.await(10, TimeUnit.SECONDS)).isTrue();
        q.put(42);
        assertThat(taken.get(30, TimeUnit.SECONDS)).isEqualTo(42);
    }

    @Test
    void put_onFullQueue_waitsForTake() throws Exception {
        BlockingQueue<Integer> q = newQueue(1);
        q.put(1);
        AtomicLong clock = new AtomicLong();
        AtomicLong putReturnedAt = new AtomicLong();
        var putting = new CountDownLatch(1);
        CompletableFuture<Void> putter = CompletableFuture.runAsync(() -> {
            putting.countDown();
            try {
                q.put(2);
                putReturnedAt.set(clock.incrementAndGet());
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
        assertThat(putting.await(10, TimeUnit.SECONDS)).isTrue();
        // While the queue is full the put cannot return: a timed offer (which must give up, as the
        // queue stays full) lends the putter time to misbehave, then the queue must hold one element.
        assertThat(q.offer(3, 100, TimeUnit.MILLISECONDS)).as("full queue: the offer gives up").isFalse();
        assertThat(putter).as("a put into a full queue returned before any take").isNotDone();
        assertThat(q.size()).as("the blocked put added nothing").isEqualTo(1);
        long takeStartedAt = clock.incrementAndGet();
        assertThat(q.take()).isEqualTo(1);
        putter.get(30, TimeUnit.SECONDS);
        assertThat(putReturnedAt.get()).as("the put returned only after the take began").isGreaterThan(takeStartedAt);
        assertThat(q.take()).isEqualTo(2);
    }

    @Test
    void take_isInterruptible() throws Exception {
        BlockingQueue<Integer> q = newQueue(0);
        var failure = new AtomicReference<Throwable>();
        var entered = new CountDownLatch(1);
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
        taker.join(30_000);
        assertThat(taker.isAlive()).isFalse();
        assertThat(failure.get()).isInstanceOf(InterruptedException.class);
        q.put(7);
        assertThat(q.poll(10, TimeUnit.SECONDS)).as("the interrupted take must not have eaten an element").isEqualTo(7);
    }

    @Test
    void nullElements_areRefused() {
        BlockingQueue<Integer> q = newQueue(0);
        assertThatThrownBy(() -> q.offer(null)).isInstanceOf(NullPointerException.class);
    }

    @Test
    void drainTo_movesInOrder_upToMax() {
        BlockingQueue<Integer> q = newQueue(0);
        q.addAll(List.of(1, 2, 3, 4));
        List<Integer> out = new ArrayList<>();
        assertThat(q.drainTo(out, 3)).isEqualTo(3);
        assertThat(out).containsExactly(1, 2, 3);
        assertThat(q.drainTo(out)).isEqualTo(1);
        assertThat(out).containsExactly(1, 2, 3, 4);
        assertThat(q.isEmpty()).isTrue();
    }

    @Test
    void containsAndRemove_work() {
        BlockingQueue<Integer> q = newQueue(0);
        q.addAll(List.of(5, 6, 7));
        assertThat(q.contains(6)).isTrue();
        assertThat(q.remove(6)).isTrue();
        assertThat(q.contains(6)).isFalse();
        assertThat(q.remove()).isEqualTo(5);
        assertThat(q.element()).isEqualTo(7);
    }

    @Test
    void concurrentProducersAndConsumers_loseAndDuplicateNothing() throws Exception {
        BlockingQueue<Integer> q = newQueue(16);
        int producers = 3, perProducer = 200, consumerCount = 2;
        ExecutorService threads = Executors.newFixedThreadPool(producers + consumerCount);
        try {
            List<Future<List<Integer>>> consumers = new ArrayList<>();
            List<Future<?>> producing = new ArrayList<>();
            for (int p = 0; p < producers; p++) {
                int base = p * perProducer;
                producing.add(threads.submit(() -> {
                    for (int i = 0; i < perProducer; i++) {
                        q.put(base + i);
                    }
                    return null;
                }));
            }
            // Consumers stop at a poison pill each, put after every producer finished: no timeout
            // decides when a consumer is done.
            for (int c = 0; c < consumerCount; c++) {
                consumers.add(threads.submit(() -> {
                    List<Integer> got = new ArrayList<>();
                    for (Integer x = q.take(); !POISON.equals(x); x = q.take()) {
                        got.add(x);
                    }
                    return got;
                }));
            }
            for (Future<?> producer : producing) {
                producer.get(60, TimeUnit.SECONDS);
            }
            for (int c = 0; c < consumerCount; c++) {
                q.put(POISON);
            }
            List<Integer> all = new ArrayList<>();
            for (Future<List<Integer>> consumer : consumers) {
                all.addAll(consumer.get(60, TimeUnit.SECONDS));
            }
            assertThat(all).hasSize(producers * perProducer).doesNotHaveDuplicates()
                    .allSatisfy(x -> assertThat(x).isBetween(0, producers * perProducer - 1));
            assertThat(q.isEmpty()).isTrue();
        } finally {
            threads.shutdownNow();
        }
    }
}
