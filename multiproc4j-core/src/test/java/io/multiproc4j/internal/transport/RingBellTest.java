package io.multiproc4j.internal.transport;

import static org.assertj.core.api.Assertions.assertThat;

import io.multiproc4j.internal.transport.FrameChannel.Frame;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The rings' bells, with no futex ({@link WorkerRings}): a worker's main thread asleep on its FIFO
 * is woken by a batch committed in the request ring, and, waiting for room, by the pool freeing
 * it; the pool's reader asleep on the socket is woken by the DOORBELL frame a result's commit
 * sends. Real /dev/shm segments, a real FIFO, a real Unix-domain socket; both ends in this JVM
 * (the worker's end maps the segment a second time, as a worker JVM does).
 */
@Timeout(300)
class RingBellTest {
    private static final Duration WAIT = Duration.ofMinutes(2);

    @TempDir
    Path dir;

    private static void await(String what, BooleanSupplier condition) {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for " + what);
            }
            LockSupport.parkNanos(1_000_000);
        }
    }

    @Test
    void aWorkerAsleepOnItsBell_isWokenByABatchCommittedInTheRequestRing() throws Exception {
        WorkerRings pool = WorkerRings.create("bell-test");
        assertThat(pool).as("the rings and the FIFO could be made").isNotNull();
        WorkerRings worker = WorkerRings.attach(pool.name(), () -> {});
        var taken = new LinkedBlockingQueue<Frame>();
        var failure = new AtomicReference<Throwable>();
        Thread main = Thread.ofPlatform().name("test-worker-main").start(() -> {
            try {
                while (true) {
                    Frame frame = worker.requests().poll();
                    if (frame != null) {
                        taken.add(frame);
                        return;
                    }
                    worker.requests().awaitData(null, () -> false, worker::sleepOnBell);
                }
            } catch (Throwable t) {
                failure.set(t);
            }
        });
        try {
            await("the worker's main thread to flag itself asleep", worker.requests()::consumerFlagged);
            assertThat(pool.requests().tryWrite(FrameType.BATCH.ordinal(), 3, out -> out.write(new byte[] {1, 2, 3})))
                    .isTrue();
            Frame frame = taken.poll(WAIT.toSeconds(), TimeUnit.SECONDS);
            assertThat(frame).as("the batch, taken by the thread the commit woke (failure: %s)", failure.get())
                    .isNotNull();
            assertThat(frame.code()).isEqualTo(FrameType.BATCH.ordinal());
            assertThat(frame.payload()).containsExactly(1, 2, 3);
            main.join(WAIT.toMillis());
            assertThat(main.isAlive()).isFalse();
        } finally {
            if (main.isAlive()) {
                worker.ringOwnBell(); // the only thing that ends its read
                main.join(WAIT.toMillis());
            }
            worker.close();
            pool.close();
        }
    }

    @Test
    void aWorkerWaitingForRoomInTheResultRing_isWokenWhenThePoolFreesIt() throws Exception {
        WorkerRings pool = WorkerRings.create("bell-room-test");
        assertThat(pool).isNotNull();
        WorkerRings worker = WorkerRings.attach(pool.name(), () -> {});
        byte[] chunk = new byte[100_000];
        int written = 0;
        while (worker.results().tryWrite(FrameType.RESULTS.ordinal(), chunk.length, out -> out.write(chunk))) {
            written++;
        }
        int full = written;
        var failure = new AtomicReference<Throwable>();
        Thread main = Thread.ofPlatform().name("test-worker-main").start(() -> {
            try {
                worker.results().write(FrameType.RESULTS.ordinal(), chunk.length, out -> out.write(chunk),
                        new ShmRing.AdaptiveSpin(0), null, worker::sleepOnBell); // a spin policy: it may wait
            } catch (Throwable t) {
                failure.set(t);
            }
        });
        try {
            await("the worker's main thread to flag itself waiting for room", worker.results()::producerFlagged);
            int read = 0;
            while (read < full + 1) {
                Frame frame = pool.results().poll();
                if (frame == null) {
                    assertThat(main.isAlive() || read == full + 1).as("the writer still waits or is done").isTrue();
                    LockSupport.parkNanos(1_000_000);
                    continue;
                }
                assertThat(frame.payload()).hasSize(chunk.length);
                read++;
            }
            main.join(WAIT.toMillis());
            assertThat(main.isAlive()).as("the writer the pool's freeing woke").isFalse();
            assertThat(failure.get()).isNull();
        } finally {
            if (main.isAlive()) {
                worker.ringOwnBell();
                main.join(WAIT.toMillis());
            }
            worker.close();
            pool.close();
        }
    }

    @Test
    void thePoolsReaderAsleepOnTheSocket_isWokenByTheDoorbellOfACommittedResult_andEndsAtEof() throws Exception {
        SocketChannel[] sockets = Sockets.pair(dir.resolve("w.sock"));
        var failures = new AtomicInteger();
        String before = System.getProperty(WorkerRings.PROPERTY);
        System.setProperty(WorkerRings.PROPERTY, "ring");
        WorkerLink link;
        try {
            link = WorkerLink.forWorker(new FrameChannel(sockets[0]), "bell-reader", failures::incrementAndGet);
        } finally {
            if (before == null) {
                System.clearProperty(WorkerRings.PROPERTY);
            } else {
                System.setProperty(WorkerRings.PROPERTY, before);
            }
        }
        assertThat(link.usesRings()).as("-Dmultiproc4j.transport=ring").isTrue();
        var peer = new FrameChannel(sockets[1]);
        var handled = new LinkedBlockingQueue<WorkerMessage>();
        Thread reader = null;
        WorkerRings worker = null;
        try {
            link.send(new WorkerMessage.Setup("codec", "bell-reader", false, 0, null, ""));
            WorkerMessage setup = WorkerMessage.decode(peer.receive());
            assertThat(setup).isInstanceOf(WorkerMessage.Setup.class);
            worker = WorkerRings.attach(((WorkerMessage.Setup) setup).rings(),
                    () -> peer.sendCode(FrameType.DOORBELL.ordinal(), new byte[0]));
            reader = Thread.ofPlatform().name("test-reader").start(() -> link.readLoop(handled::add));
            ShmRing results = worker.results();
            await("the pool's reader to flag itself asleep", results::consumerFlagged);
            WorkerMessage ready = WorkerMessage.Ready.INSTANCE;
            results.write(ready.type().ordinal(), ready.length(), ready::writeBody, null, null, null);
            assertThat(handled.poll(WAIT.toSeconds(), TimeUnit.SECONDS)).as("READY, woken by the doorbell")
                    .isEqualTo(ready);
            // a result committed just before the worker's end is delivered at EOF, then the reader returns
            var results2 = new WorkerMessage.Results(7, 0, new byte[] {9});
            results.write(results2.type().ordinal(), results2.length(), results2::writeBody, null, null, null);
            sockets[1].close();
            reader.join(WAIT.toMillis());
            assertThat(reader.isAlive()).as("the reader ended at EOF").isFalse();
            WorkerMessage last = handled.poll();
            assertThat(last).as("the result committed before EOF").isInstanceOf(WorkerMessage.Results.class);
            assertThat(((WorkerMessage.Results) last).batchId()).isEqualTo(7);
            assertThat(((WorkerMessage.Results) last).results()).containsExactly(9);
            assertThat(failures).hasValue(0);
        } finally {
            link.close();
            sockets[1].close();
            if (reader != null) {
                reader.join(WAIT.toMillis());
            }
            if (worker != null) {
                worker.close();
            }
        }
    }
}
