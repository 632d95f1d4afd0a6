package io.multiproc4j.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.multiproc4j.Pool;
import io.multiproc4j.PoolState;
import io.multiproc4j.PoolStats;
import io.multiproc4j.SerializableFunction;
import io.multiproc4j.ipc.ProcessQueue;
import io.multiproc4j.sync.ProcessBarrier;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Flow;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Regression tests of the process engine's defects (issue 10), each against real worker JVMs: a
 * cold pool runs n tasks at once; an interrupted caller kills nothing; two codecs share a lambda;
 * terminate reports TERMINATED only once no worker is alive.
 */
@Deadline(seconds = 180)
class ProcessEngineRegressionTest {
    /** A lambda that captures nothing: one object, found by identity in a function table. */
    private static final SerializableFunction<Integer, Integer> INCREMENT = x -> x + 1;

    private static List<Integer> range(int n) {
        return IntStream.range(0, n).boxed().toList();
    }

    private static Set<Long> descendants() {
        Set<Long> pids = new HashSet<>();
        ProcessHandle.current().descendants().filter(ProcessHandle::isAlive).forEach(p -> pids.add(p.pid()));
        return pids;
    }

    @ParameterizedTest(name = "{0} workers")
    @ValueSource(ints = {2, 3})
    void coldPool_runsNTasksAtOnce_soABarrierOfNTasksCompletes(int n) throws Exception {
        try (ProcessBarrier barrier = ProcessBarrier.create(n);
             Pool pool = Pool.processes(n)) {
            List<CompletableFuture<Long>> tasks = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                // submitted at once on a fresh pool: the first worker to be ready must not keep them all
                tasks.add(pool.applyAsync((Integer x) -> {
                    try {
                        barrier.await(Duration.ofSeconds(120));
                    } catch (Exception e) {
                        throw new IllegalStateException("the barrier did not trip: tasks did not run at once", e);
                    }
                    return ProcessHandle.current().pid();
                }, i));
            }
            Set<Long> pids = new HashSet<>();
            for (CompletableFuture<Long> task : tasks) {
                pids.add(task.get(150, TimeUnit.SECONDS));
            }
            assertThat(pids).hasSize(n);
        }
    }

    @Test
    void warmPool_aTaskSentBehindABusyWorker_runsOnTheWorkerThatBecameIdle() throws Exception {
        try (io.multiproc4j.sync.ProcessEvent released = io.multiproc4j.sync.ProcessEvent.create();
             io.multiproc4j.sync.ProcessEvent finishShort = io.multiproc4j.sync.ProcessEvent.create();
             io.multiproc4j.sync.ProcessEvent shortStarted = io.multiproc4j.sync.ProcessEvent.create();
             Pool pool = Pool.processes(2)) {
            assertThat(pool.map(INCREMENT, range(8), 1)).hasSize(8); // warm: both workers ready
            // The first runs until the last has run; the second until the last two were queued. When
            // the second ends, its worker takes the third and the last is prefetched behind the
            // first (the first worker in line); once the third is done that worker is idle and must
            // take the last back, or the first waits for ever.
            CompletableFuture<String> waiting = pool.applyAsync((Integer x) -> {
                try {
                    return released.await(Duration.ofSeconds(120)) ? "released" : "never released";
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            }, 0);
            CompletableFuture<Integer> shortOne = pool.applyAsync((Integer x) -> {
                shortStarted.set();
                try {
                    finishShort.await(Duration.ofSeconds(120));
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
                return x + 1;
            }, 1);
            assertThat(shortStarted.await(Duration.ofSeconds(120))).isTrue(); // both workers are busy now
            CompletableFuture<Integer> third = pool.applyAsync(INCREMENT, 3);
            CompletableFuture<Integer> releasing = pool.applyAsync((Integer x) -> {
                released.set();
                return x;
            }, 2);
            finishShort.set();
            assertThat(shortOne.get(150, TimeUnit.SECONDS)).isEqualTo(2);
            assertThat(third.get(150, TimeUnit.SECONDS)).isEqualTo(4);
            assertThat(releasing.get(150, TimeUnit.SECONDS)).isEqualTo(2);
            assertThat(waiting.get(150, TimeUnit.SECONDS)).isEqualTo("released");
        }
    }

    @Test
    void coldPool_producerAndConsumerOnOneQueue_bothFinish() throws Exception {
        try (ProcessQueue<Integer> queue = ProcessQueue.create(1);
             Pool pool = Pool.processes(2)) {
            // the consumer first: it blocks in take() while the producer must run on the other worker
            CompletableFuture<Integer> consumer = pool.applyAsync((Integer count) -> {
                int sum = 0;
                for (int i = 0; i < count; i++) {
                    try {
                        Integer value = queue.poll(120, TimeUnit.SECONDS);
                        if (value == null) {
                            throw new IllegalStateException("nothing arrived: the producer did not run");
                        }
                        sum += value;
                    } catch (InterruptedException e) {
                        throw new IllegalStateException(e);
                    }
                }
                return sum;
            }, 5);
            CompletableFuture<Integer> producer = pool.applyAsync((Integer count) -> {
                for (int i = 1; i <= count; i++) {
                    try {
                        if (!queue.offer(i, 120, TimeUnit.SECONDS)) {
                            throw new IllegalStateException("the queue stayed full: the consumer did not run");
                        }
                    } catch (InterruptedException e) {
                        throw new IllegalStateException(e);
                    }
                }
                return count;
            }, 5);
            assertThat(producer.get(150, TimeUnit.SECONDS)).isEqualTo(5);
            assertThat(consumer.get(150, TimeUnit.SECONDS)).isEqualTo(15);
        }
    }

    /** Runs {@code call} on a thread whose interrupt flag is set, and returns what it returned. */
    private static <V> V interrupted(java.util.concurrent.Callable<V> call) throws Exception {
        Thread.currentThread().interrupt();
        try {
            return call.call();
        } finally {
            Thread.interrupted(); // clear it for the next call, whatever happened
        }
    }

    @Test
    void interruptedCallers_ofEveryEntryPoint_getTheirOwnCancellation_andNoWorkerDies() throws Exception {
        Pool pool = Pool.processes(2);
        try {
            assertThat(pool.map(INCREMENT, range(4), 1)).containsExactly(1, 2, 3, 4); // warm

            // calls that return at once run normally: the flag is the caller's business
            CompletableFuture<Integer> one = interrupted(() -> pool.applyAsync(INCREMENT, 41));
            assertThat(one.get(60, TimeUnit.SECONDS)).isEqualTo(42);
            CompletableFuture<List<Integer>> many = interrupted(() -> pool.mapAsync(INCREMENT, range(6), 1));
            assertThat(many.get(60, TimeUnit.SECONDS)).containsExactly(1, 2, 3, 4, 5, 6);

            // blocking calls end at once with their own CancellationException, the flag kept
            assertThatThrownBy(() -> interrupted(() -> {
                try {
                    return pool.map(INCREMENT, range(6), 1);
                } finally {
                    assertThat(Thread.currentThread().isInterrupted()).isTrue();
                }
            })).isInstanceOf(CancellationException.class);
            assertThatThrownBy(() -> interrupted(() -> pool.starmap((Integer a, Integer b) -> a * b,
                    List.of(List.of(2, 3), List.of(4, 5))))).isInstanceOf(CancellationException.class);

            // iterators: created and read by an interrupted thread; a read either has its result or is cancelled
            for (boolean ordered : new boolean[] {true, false}) {
                Iterator<Integer> it = interrupted(() -> ordered ? pool.imap(INCREMENT, range(6), 1)
                        : pool.imapUnordered(INCREMENT, range(6), 1));
                try {
                    Integer first = interrupted(it::next);
                    assertThat(first).isBetween(1, 6);
                } catch (CancellationException expected) {
                    // its own call, cancelled; nothing else changes
                }
            }

            // a publisher subscribed and requested from an interrupted thread delivers everything
            var received = new CopyOnWriteArrayList<Integer>();
            var done = new CountDownLatch(1);
            Flow.Publisher<Integer> publisher = interrupted(() -> pool.publish(INCREMENT, range(5), 1));
            interrupted(() -> {
                publisher.subscribe(new Flow.Subscriber<>() {
                    @Override
                    public void onSubscribe(Flow.Subscription subscription) {
                        subscription.request(Long.MAX_VALUE);
                    }

                    @Override
                    public void onNext(Integer item) {
                        received.add(item);
                    }

                    @Override
                    public void onError(Throwable throwable) {
                        done.countDown();
                    }

                    @Override
                    public void onComplete() {
                        done.countDown();
                    }
                });
                return null;
            });
            assertThat(done.await(60, TimeUnit.SECONDS)).isTrue();
            assertThat(received).containsExactlyInAnyOrder(1, 2, 3, 4, 5);

            // nothing else changed: the same workers, none exited, the pool works
            assertThat(pool.map(INCREMENT, range(20), 1)).isEqualTo(IntStream.rangeClosed(1, 20).boxed().toList());
            PoolStats stats = pool.stats();
            assertThat(stats.workersExited()).isEmpty();
            assertThat(stats.workersStarted()).isEqualTo(2);
        } finally {
            pool.close(); // returns: the deadline would fail the test otherwise
        }
        assertThat(pool.state()).isEqualTo(PoolState.TERMINATED);
    }

    @Test
    void twoPoolsWithDifferentCodecs_runTheSameLambda() {
        try (Pool standard = Pool.processes(1);
             Pool tagged = Pool.builder().processes(1).codec(new TaggedCodec()).build()) {
            assertThat(standard.map(INCREMENT, range(3))).containsExactly(1, 2, 3);
            assertThat(tagged.map(INCREMENT, range(3))).containsExactly(1, 2, 3);
            assertThat(standard.map(INCREMENT, range(3))).containsExactly(1, 2, 3);
        }
    }

    @Test
    void terminate_reportsTerminated_onlyOnceNoWorkerIsAlive() throws Exception {
        Pool pool = Pool.processes(2);
        try {
            Set<Long> workers = new HashSet<>(pool.map((Integer x) -> ProcessHandle.current().pid(), range(8), 1));
            CompletableFuture<Integer> hung = pool.applyAsync((Integer x) -> {
                new Bomb(Bomb.Stage.RUN, Bomb.Death.HANG).detonate();
                return x;
            }, 1);
            assertThat(pool.state()).isEqualTo(PoolState.RUNNING);
            pool.terminate();
            assertThat(pool.state()).isEqualTo(PoolState.TERMINATED);
            assertThat(descendants()).doesNotContainAnyElementsOf(workers);
            assertThatThrownBy(() -> hung.get(30, TimeUnit.SECONDS)).hasCauseInstanceOf(CancellationException.class);
            assertThat(pool.state()).isEqualTo(PoolState.TERMINATED); // reading it changes nothing
        } finally {
            pool.terminate();
        }
    }

    @Test
    void stats_countWorkersTasksAndRecycling() throws Exception {
        PoolStats stats;
        Pool pool = Pool.builder().processes(1).maxTasksPerChild(2).build();
        try {
            assertThat(pool.map(INCREMENT, range(6), 1)).hasSize(6);
            stats = pool.stats();
            assertThat(stats.tasksDone()).isEqualTo(6);
            assertThat(stats.batchesDone()).isEqualTo(6);
            assertThat(stats.recycled()).isGreaterThanOrEqualTo(2);
            assertThat(stats.workersStarted()).isGreaterThanOrEqualTo(3);
            assertThatThrownBy(() -> pool.map((Integer x) -> 10 / x, range(2), 1)).isNotNull();
            assertThat(pool.stats().tasksFailed()).isEqualTo(1);
        } finally {
            pool.close();
        }
        PoolStats closed = pool.stats();
        assertThat(closed.workersExited()).containsKey("RECYCLED");
        assertThat(closed.workersExitedTotal()).isEqualTo(closed.workersStarted());
        try (Pool threads = Pool.threads(2)) {
            threads.map(INCREMENT, range(10), 1);
            assertThat(threads.stats().tasksDone()).isEqualTo(10);
            assertThat(threads.stats().workersStarted()).isBetween(1L, 2L);
        }
    }

    @Test
    void jfrEvents_showWorkerStartBatchesAndExitWithCause() throws Exception {
        java.nio.file.Path file = java.nio.file.Files.createTempFile("mp4j-engine-test-", ".jfr");
        try (var recording = new jdk.jfr.Recording()) {
            for (String name : List.of("WorkerStart", "WorkerExit", "WorkerRecycle", "BatchSent", "BatchDone")) {
                recording.enable("io.multiproc4j." + name);
            }
            recording.start();
            try (Pool pool = Pool.builder().processes(1).maxTasksPerChild(2).build()) {
                assertThat(pool.map(INCREMENT, range(4), 1)).containsExactly(1, 2, 3, 4);
            }
            recording.stop();
            recording.dump(file);
            List<jdk.jfr.consumer.RecordedEvent> events = jdk.jfr.consumer.RecordingFile.readAllEvents(file);
            Set<String> names = new HashSet<>();
            Set<String> causes = new HashSet<>();
            for (var event : events) {
                names.add(event.getEventType().getName());
                if (event.getEventType().getName().equals("io.multiproc4j.WorkerExit")) {
                    causes.add(event.getString("cause"));
                }
            }
            assertThat(names).contains("io.multiproc4j.WorkerStart", "io.multiproc4j.WorkerExit",
                    "io.multiproc4j.WorkerRecycle", "io.multiproc4j.BatchSent", "io.multiproc4j.BatchDone");
            // the last replacement may still be starting at close(): then it is KILLED, not SHUTDOWN
            assertThat(causes).contains("RECYCLED").doesNotContain("CRASHED");
        } finally {
            java.nio.file.Files.deleteIfExists(file);
        }
    }
}
