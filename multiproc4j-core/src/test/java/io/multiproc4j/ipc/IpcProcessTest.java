package io.multiproc4j.ipc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.multiproc4j.Pool;
import io.multiproc4j.shared.SharedLong;
import io.multiproc4j.sync.ProcessEvent;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Pipes and queues between this JVM and the worker JVMs of one shared {@code Pool.processes(4)}:
 * handles captured by tasks attach in the worker.
 */
@Timeout(120)
class IpcProcessTest {
    private static Pool pool;

    @BeforeAll
    static void startPool() {
        pool = Pool.processes(4);
    }

    @AfterAll
    static void stopPool() {
        if (pool != null) {
            pool.terminate();
        }
    }

    @Test
    void apiExample_duplexPipeWithAWorker() throws Exception {
        try (Pipe<String> pipe = Pipe.duplex()) {
            CompletableFuture<String> reply = pool.applyAsync(end -> {
                end.send("hello");
                return end.receive();
            }, pipe.right());
            assertThat(pipe.left().receive()).isEqualTo("hello");
            pipe.left().send("bye");
            assertThat(reply.get(60, TimeUnit.SECONDS)).isEqualTo("bye");
        }
    }

    /** The README's ipc example (keep the two in step), with {@code work(job)} summing into a SharedLong. */
    @Test
    void readmeExample_runsAsDocumented() throws Exception {
        try (Pipe<String> pipe = Pipe.duplex()) {
            CompletableFuture<String> reply =
                    pool.applyAsync(end -> { end.send("hello"); return end.receive(); }, pipe.right());
            assertThat(pipe.left().receive()).isEqualTo("hello");
            pipe.left().send("bye");
            assertThat(reply.get(60, TimeUnit.SECONDS)).isEqualTo("bye");
        }
        try (JoinableProcessQueue<Integer> jobs = JoinableProcessQueue.create(1_000);
             SharedLong total = SharedLong.create(0)) {
            List<CompletableFuture<Object>> consumers = new ArrayList<>();
            for (int c = 0; c < 4; c++) {
                consumers.add(pool.applyAsync(q -> {
                    try {
                        for (;;) { int job = q.take(); total.addAndGet(job); q.taskDone(); }
                    } catch (QueueShutdownException | InterruptedException done) {
                        return null;
                    }
                }, jobs));
            }
            for (int i = 0; i < 100; i++) jobs.put(i);
            jobs.join();
            assertThat(total.get()).isEqualTo(4950);
            jobs.shutdown();
            for (CompletableFuture<Object> consumer : consumers) {
                consumer.get(60, TimeUnit.SECONDS);
            }
        }
    }

    @Test
    void duplexEcho_objectsAndBytes_acrossProcesses() throws Exception {
        try (Pipe<Object> pipe = Pipe.duplex()) {
            CompletableFuture<Integer> echoed = pool.applyAsync(end -> {
                int n = 0;
                for (Object message; !"stop".equals(message = end.receive()); n++) {
                    if (message instanceof byte[] bytes) {
                        end.sendBytes(bytes);
                    } else {
                        end.send(List.of(message, ProcessHandle.current().pid()));
                    }
                }
                return n;
            }, pipe.right());
            long me = ProcessHandle.current().pid();
            for (int i = 0; i < 100; i++) {
                pipe.left().send("m" + i);
                @SuppressWarnings("unchecked")
                List<Object> back = (List<Object>) pipe.left().receive();
                assertThat(back.get(0)).isEqualTo("m" + i);
                assertThat(back.get(1)).as("answered by a worker process").isNotEqualTo(me);
            }
            pipe.left().sendBytes(new byte[] {1, 2, 3});
            assertThat(pipe.left().receiveBytes()).containsExactly(1, 2, 3);
            pipe.left().send("stop");
            assertThat(echoed.get(60, TimeUnit.SECONDS)).isEqualTo(101);
        }
    }

    @Test
    void sixteenMebibyteMessage_roundTripsThroughAWorker() throws Exception {
        try (Pipe<byte[]> pipe = Pipe.duplex()) {
            CompletableFuture<Integer> worker = pool.applyAsync(end -> {
                byte[] got = end.receive();
                end.send(got);
                return got.length;
            }, pipe.right());
            byte[] big = new byte[16 << 20];
            for (int i = 0; i < big.length; i += 4099) {
                big[i] = (byte) (i ^ (i >>> 8));
            }
            pipe.left().send(big);
            assertThat(pipe.left().receive()).isEqualTo(big);
            assertThat(worker.get(60, TimeUnit.SECONDS)).isEqualTo(16 << 20);
        }
    }

    @Test
    void eofAfterClose_inAnotherProcess() throws Exception {
        try (Pipe<Integer> pipe = Pipe.oneWay()) {
            pool.applyAsync(end -> {
                for (int i = 0; i < 3; i++) {
                    end.send(i);
                }
                end.close();
                return null;
            }, pipe.right()).get(60, TimeUnit.SECONDS);
            assertThat(List.of(pipe.left().receive(), pipe.left().receive(), pipe.left().receive()))
                    .containsExactly(0, 1, 2);
            assertThatThrownBy(() -> pipe.left().receive()).isInstanceOf(ConnectionClosedException.class)
                    .hasMessageContaining("EOF");
        }
    }

    @Test
    void fifoFromOneProducer_acrossTheWorkerBoundary() throws Exception {
        int n = 5_000;
        try (ProcessQueue<Integer> queue = ProcessQueue.create(64)) {
            CompletableFuture<Integer> producer = pool.applyAsync(q -> Conditions.call(() -> {
                for (int i = 0; i < n; i++) {
                    q.put(i);
                }
                return n;
            }), queue);
            List<Integer> got = new ArrayList<>();
            while (got.size() < n) {
                Integer x = queue.poll(30, TimeUnit.SECONDS);
                assertThat(x).as("item %d did not arrive", got.size()).isNotNull();
                got.add(x);
            }
            assertThat(producer.get(60, TimeUnit.SECONDS)).isEqualTo(n);
            for (int i = 0; i < n; i++) {
                assertThat(got.get(i)).isEqualTo(i);
            }
        }
    }

    @Test
    void twoProducerProcesses_eachKeepsItsOrder() throws Exception {
        int n = 2_000;
        try (ProcessQueue<ProcessQueueTest.Item> queue = ProcessQueue.create(32)) {
            List<CompletableFuture<Integer>> producers = new ArrayList<>();
            for (int p = 0; p < 2; p++) {
                int producer = p;
                producers.add(pool.applyAsync(q -> Conditions.call(() -> {
                    for (int i = 0; i < n; i++) {
                        q.put(new ProcessQueueTest.Item(producer, i));
                    }
                    return n;
                }), queue));
            }
            int[] next = new int[2];
            for (int k = 0; k < 2 * n; k++) {
                ProcessQueueTest.Item item = queue.poll(30, TimeUnit.SECONDS);
                assertThat(item).isNotNull();
                assertThat(item.seq()).as("order of producer %d", item.producer()).isEqualTo(next[item.producer()]);
                next[item.producer()]++;
            }
            for (CompletableFuture<Integer> producer : producers) {
                assertThat(producer.get(60, TimeUnit.SECONDS)).isEqualTo(n);
            }
        }
    }

    @Test
    void joinableQueue_fourConsumerProcesses() throws Exception {
        int n = 400;
        try (JoinableProcessQueue<Integer> jobs = JoinableProcessQueue.create(50)) {
            List<CompletableFuture<long[]>> consumers = new ArrayList<>();
            for (int c = 0; c < 4; c++) {
                consumers.add(pool.applyAsync(q -> Conditions.call(() -> {
                    long count = 0, sum = 0;
                    try {
                        for (;;) {
                            Integer job = q.take();
                            sum += job;
                            count++;
                            q.taskDone();
                        }
                    } catch (QueueShutdownException done) {
                        return new long[] {count, sum, ProcessHandle.current().pid()};
                    }
                }), jobs));
            }
            for (int i = 1; i <= n; i++) {
                jobs.put(i);
            }
            assertThat(jobs.join(Duration.ofSeconds(60))).as("every job marked done").isTrue();
            assertThat(jobs.unfinishedTasks()).isZero();
            jobs.shutdown();
            long count = 0, sum = 0;
            for (CompletableFuture<long[]> consumer : consumers) {
                long[] r = consumer.get(60, TimeUnit.SECONDS);
                count += r[0];
                sum += r[1];
            }
            assertThat(count).isEqualTo(n);
            assertThat(sum).isEqualTo((long) n * (n + 1) / 2);
            assertThatThrownBy(jobs::taskDone).isInstanceOf(IllegalStateException.class);
        }
    }

    @Test
    void queueFull_blocksAWorkerProducer_untilThisProcessTakes() throws Exception {
        try (ProcessQueue<Integer> queue = ProcessQueue.create(2); ProcessEvent offered = ProcessEvent.create()) {
            CompletableFuture<Boolean> worker = pool.applyAsync(q -> Conditions.call(() -> {
                q.put(1);
                q.put(2);
                boolean refused = !q.offer(3, 200, TimeUnit.MILLISECONDS);
                offered.set();
                q.put(3); // blocks until the parent takes
                return refused;
            }), queue);
            assertThat(offered.await(Duration.ofSeconds(60))).isTrue();
            assertThat(queue.remainingCapacity()).isZero();
            assertThat(queue.take()).isEqualTo(1);
            assertThat(queue.take()).isEqualTo(2);
            assertThat(queue.take()).isEqualTo(3);
            assertThat(worker.get(60, TimeUnit.SECONDS)).as("the timed offer on a full queue gave up").isTrue();
        }
    }

    @Test
    void unserializablePut_inAWorker_isRefused_andQueueKeepsWorking() throws Exception {
        try (ProcessQueue<Object> queue = ProcessQueue.create(10)) {
            String message = pool.applyAsync(q -> {
                q.add("ok");
                try {
                    q.put(new Thread());
                    return "accepted";
                } catch (IllegalArgumentException e) {
                    return e.getMessage();
                } catch (InterruptedException e) {
                    return "interrupted";
                }
            }, queue).get(60, TimeUnit.SECONDS);
            assertThat(message).contains("java.lang.Thread").contains("Serializable");
            assertThat(queue.size()).isEqualTo(1);
            assertThat(queue.take()).isEqualTo("ok");
        }
    }
}
