package io.multiproc4j.internal.transport;

import static org.assertj.core.api.Assertions.assertThat;

import io.multiproc4j.WorkerOutput;
import io.multiproc4j.internal.supervise.ExitCause;
import io.multiproc4j.internal.supervise.Supervisor;
import io.multiproc4j.internal.supervise.WorkerProcess;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The parent's end of a worker connection: who writes where, and what a failed write does. */
@Timeout(300)
class WorkerLinkTest {
    @TempDir
    Path dir;

    @Test
    void aReader_thatQueuesToAnotherLink_keepsReading_whileThatLinksPeerReadsNothing() throws Exception {
        SocketChannel[] a = Sockets.pair(dir.resolve("a.sock"));
        SocketChannel[] b = Sockets.pair(dir.resolve("b.sock"));
        var failures = new AtomicInteger();
        var linkA = new WorkerLink(new FrameChannel(a[0]), "a", failures::incrementAndGet);
        var linkB = new WorkerLink(new FrameChannel(b[0]), "b", failures::incrementAndGet);
        byte[] big = new byte[16 << 20]; // far more than a socket buffer: a write of it blocks while b[1] reads nothing
        var handled = new LinkedBlockingQueue<WorkerMessage>();
        var count = new AtomicInteger(); // the reader's own count: the test thread takes from handled meanwhile
        Thread reader = Thread.ofPlatform().name("test-reader-a").start(() -> linkA.readLoop(message -> {
            int n = count.getAndIncrement();
            linkB.send(new WorkerMessage.BatchMessage(n, 1, null, -1, big));
            linkA.send(new WorkerMessage.Recall(n)); // its own link: written by this reader
            handled.add(message);
        }));
        try {
            var peerA = new FrameChannel(a[1]);
            WorkerMessage.Ready.INSTANCE.write(peerA);
            WorkerMessage.Ready.INSTANCE.write(peerA);
            peerA.flush();
            assertThat(handled.poll(120, TimeUnit.SECONDS)).as("the first message").isEqualTo(WorkerMessage.Ready.INSTANCE);
            assertThat(handled.poll(120, TimeUnit.SECONDS))
                    .as("the second message: the reader must not be stuck writing to the other link")
                    .isEqualTo(WorkerMessage.Ready.INSTANCE);
            assertThat(WorkerMessage.decode(peerA.receive())).isEqualTo(new WorkerMessage.Recall(0));
            assertThat(WorkerMessage.decode(peerA.receive())).isEqualTo(new WorkerMessage.Recall(1));
        } finally {
            linkA.close();
            linkB.close();
            for (SocketChannel s : List.of(a[1], b[1])) {
                s.close();
            }
            reader.join(Duration.ofSeconds(60));
        }
        assertThat(reader.isAlive()).isFalse();
        assertThat(failures).as("closing a link is no write failure").hasValue(0);
    }

    @Test
    void aWriteThatFails_killsTheLiveWorker_soItsExitSettlesWhatItHeld() throws Exception {
        var channel = new CompletableFuture<FrameChannel>();
        var exit = new CompletableFuture<Supervisor.Exit>();
        var release = new CountDownLatch(1);
        Supervisor supervisor = Supervisor.open(new Supervisor.Listener() {
            @Override
            public void connected(WorkerProcess child, FrameChannel connected) {
                channel.complete(connected);
                try {
                    release.await(); // the connection is the test's until it ends
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }

            @Override
            public void exited(WorkerProcess child, Supervisor.Exit how) {
                exit.complete(how);
            }
        });
        WorkerProcess child = supervisor.spawn(WorkerProcess.poolWorker("link-test", List.of(), WorkerOutput.PREFIXED),
                Duration.ofMinutes(10)); // no start timeout during the test: only the link may kill it
        WorkerLink link = null;
        try {
            link = new WorkerLink(channel.get(120, TimeUnit.SECONDS), child.name(), () -> child.kill(ExitCause.CRASHED));
            // A message that cannot be written (writeUTF(null) throws a RuntimeException): the worker,
            // alive and waiting for SETUP, would otherwise wait for ever behind a dead link.
            link.send(new WorkerMessage.Setup(null, child.name(), false, 0, null));
            Supervisor.Exit how = exit.get(120, TimeUnit.SECONDS);
            assertThat(how.cause()).isEqualTo(ExitCause.CRASHED);
            assertThat(link.isBroken()).isTrue();
        } finally {
            release.countDown();
            child.kill(ExitCause.KILLED);
            child.process().waitFor(60, TimeUnit.SECONDS);
            if (link != null) {
                link.close();
            }
            supervisor.close();
        }
    }
}
