package io.multiproc4j.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.multiproc4j.WorkerOutput;
import io.multiproc4j.internal.supervise.ExitCause;
import io.multiproc4j.internal.supervise.Supervisor;
import io.multiproc4j.internal.supervise.WorkerProcess;
import io.multiproc4j.internal.supervise.WorkerProcess.LaunchSpec;
import io.multiproc4j.internal.transport.FrameChannel;
import io.multiproc4j.internal.transport.WorkerMessage;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The supervision layer on its own, with a child that is not a pool worker ({@link EchoChildMain},
 * its own control messages): spawn, key in the environment, handshake, start timeout, start
 * failure, exit cause, lifeline, and the worker state machine.
 */
@Deadline(seconds = 120)
class SupervisorTest {
    /** What the listener saw. */
    private final BlockingQueue<FrameChannel> connected = new ArrayBlockingQueue<>(4);
    private final BlockingQueue<Supervisor.Exit> exits = new ArrayBlockingQueue<>(4);
    private final CompletableFuture<Void> released = new CompletableFuture<>();
    private final Supervisor supervisor = Supervisor.open(new Supervisor.Listener() {
        @Override
        public void connected(WorkerProcess child, FrameChannel channel) {
            connected.add(channel);
            released.join(); // the connection stays open until the test is done with it
        }

        @Override
        public void exited(WorkerProcess child, Supervisor.Exit exit) {
            exits.add(exit);
        }
    });
    private WorkerProcess child;

    @AfterEach
    void cleanUp() throws InterruptedException {
        released.complete(null);
        if (child != null) {
            child.kill(ExitCause.KILLED);
            child.process().waitFor(30, TimeUnit.SECONDS);
        }
        supervisor.close();
    }

    private static LaunchSpec echo(Map<String, String> environment, List<String> jvmOptions) {
        LaunchSpec of = LaunchSpec.of("echo", EchoChildMain.class, jvmOptions, WorkerOutput.PREFIXED);
        return new LaunchSpec(of.name(), of.mainClass(), of.moduleName(), of.jvmOptions(), of.output(), environment,
                of.tailLines());
    }

    @Test
    void aChildWithItsOwnMessages_connects_talks_andExitsWithTheCauseItsOwnerGave() throws Exception {
        child = supervisor.spawn(echo(Map.of(), List.of()), Duration.ofSeconds(60));
        assertThat(child.state()).isEqualTo(WorkerProcess.State.STARTING);
        FrameChannel channel = connected.poll(60, TimeUnit.SECONDS);
        assertThat(channel).as("the child proved its key").isNotNull();
        child.moveTo(WorkerProcess.State.READY);

        channel.sendCode(5, "hello".getBytes(StandardCharsets.UTF_8));
        var answer = channel.receive();
        assertThat(answer.code()).isEqualTo(6);
        assertThat(new String(answer.payload(), StandardCharsets.UTF_8)).isEqualTo("hello");

        assertThat(child.expectExit(ExitCause.SHUTDOWN)).isTrue();
        assertThat(child.expectExit(ExitCause.CRASHED)).as("the first reason wins").isFalse();
        channel.sendCode(EchoChildMain.EXIT, ByteBuffer.allocate(4).putInt(3).array());
        Supervisor.Exit exit = exits.poll(60, TimeUnit.SECONDS);
        assertThat(exit).isNotNull();
        assertThat(exit.cause()).isEqualTo(ExitCause.SHUTDOWN);
        assertThat(exit.exitCode()).isEqualTo(3);
        assertThat(exit.connected()).isTrue();
        assertThat(child.state()).isEqualTo(WorkerProcess.State.DEAD);
        assertThat(child.exitCause()).isEqualTo(ExitCause.SHUTDOWN);
    }

    @Test
    void anExitNobodyAskedFor_isACrash() throws Exception {
        child = supervisor.spawn(echo(Map.of(), List.of()), Duration.ofSeconds(60));
        FrameChannel channel = connected.poll(60, TimeUnit.SECONDS);
        assertThat(channel).isNotNull();
        child.moveTo(WorkerProcess.State.READY);
        channel.sendCode(EchoChildMain.EXIT, ByteBuffer.allocate(4).putInt(7).array());
        Supervisor.Exit exit = exits.poll(60, TimeUnit.SECONDS);
        assertThat(exit).isNotNull();
        assertThat(exit.cause()).isEqualTo(ExitCause.CRASHED);
        assertThat(exit.exitCode()).isEqualTo(7);
    }

    /**
     * An owner may wait for an exit on a common-pool thread (a server's reload run by
     * {@code CompletableFuture.runAsync}); with every common-pool thread blocked so, the exit must
     * still be reported. (It was not: {@code Process.onExit()} completes on that pool.)
     */
    @Test
    void anExit_isReported_whileEveryCommonPoolThreadIsBlocked() throws Exception {
        var lock = new java.util.concurrent.locks.ReentrantLock();
        var freed = lock.newCondition();
        var free = new java.util.concurrent.atomic.AtomicBoolean();
        int threads = java.util.concurrent.ForkJoinPool.getCommonPoolParallelism();
        var blocked = new java.util.concurrent.CountDownLatch(threads);
        List<CompletableFuture<Void>> blockers = new java.util.ArrayList<>();
        try {
            for (int i = 0; i < threads; i++) {
                blockers.add(CompletableFuture.runAsync(() -> { // as an owner's blocking call does: no compensation
                    lock.lock();
                    try {
                        blocked.countDown();
                        while (!free.get()) {
                            freed.awaitNanos(TimeUnit.SECONDS.toNanos(1));
                        }
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    } finally {
                        lock.unlock();
                    }
                }));
            }
            assertThat(blocked.await(60, TimeUnit.SECONDS)).as("every common-pool thread blocked").isTrue();
            child = supervisor.spawn(echo(Map.of(), List.of()), Duration.ofSeconds(60));
            FrameChannel channel = connected.poll(60, TimeUnit.SECONDS);
            assertThat(channel).isNotNull();
            child.moveTo(WorkerProcess.State.READY);
            channel.sendCode(EchoChildMain.EXIT, ByteBuffer.allocate(4).putInt(3).array());
            Supervisor.Exit exit = exits.poll(60, TimeUnit.SECONDS);
            assertThat(exit).as("the exit, reported while the common pool is blocked").isNotNull();
            assertThat(exit.exitCode()).isEqualTo(3);
        } finally {
            free.set(true);
            lock.lock();
            try {
                freed.signalAll();
            } finally {
                lock.unlock();
            }
            for (CompletableFuture<Void> blocker : blockers) {
                blocker.get(60, TimeUnit.SECONDS);
            }
        }
    }

    @Test
    void theOwnerClosingTheConnection_endsTheChild_throughItsLifeline() throws Exception {
        child = supervisor.spawn(echo(Map.of(), List.of()), Duration.ofSeconds(60));
        FrameChannel channel = connected.poll(60, TimeUnit.SECONDS);
        assertThat(channel).isNotNull();
        child.moveTo(WorkerProcess.State.READY);
        child.expectExit(ExitCause.SHUTDOWN);
        channel.close();
        Supervisor.Exit exit = exits.poll(60, TimeUnit.SECONDS);
        assertThat(exit).as("the child halts at EOF").isNotNull();
        assertThat(exit.cause()).isEqualTo(ExitCause.SHUTDOWN);
    }

    @Test
    void aChildThatDoesNotConnectInTime_isKilled_asAStartTimeout() throws Exception {
        child = supervisor.spawn(echo(Map.of("ECHO_MODE", "hang"), List.of()), Duration.ofMillis(1_500));
        Supervisor.Exit exit = exits.poll(60, TimeUnit.SECONDS);
        assertThat(exit).isNotNull();
        assertThat(exit.cause()).isEqualTo(ExitCause.START_TIMEOUT);
        assertThat(exit.connected()).isFalse();
        assertThat(connected).isEmpty();
    }

    @Test
    void aChildThatCannotStart_isAStartFailure_withItsStderr() throws Exception {
        child = supervisor.spawn(echo(Map.of(), List.of("-XX:+NoSuchOptionForEcho")), Duration.ofSeconds(60));
        Supervisor.Exit exit = exits.poll(60, TimeUnit.SECONDS);
        assertThat(exit).isNotNull();
        assertThat(exit.cause()).isEqualTo(ExitCause.START_FAILED);
        assertThat(exit.exitCode()).isNotZero();
        assertThat(String.join("\n", exit.stderrTail())).contains("NoSuchOptionForEcho");
    }

    @Test
    void aConnectionWithoutAValidKey_isDropped_andNobodyIsTold() throws Exception {
        try (SocketChannel socket = SocketChannel.open(supervisor.address())) {
            var channel = new FrameChannel(socket);
            new WorkerMessage.Hello(new byte[32], ProcessHandle.current().pid()).write(channel);
            channel.flush();
            assertThatThrownBy(channel::receive).as("the supervisor closes it").isInstanceOf(java.io.IOException.class);
        }
        assertThat(connected).isEmpty();
    }

    @Test
    void theWorkerStateMachine_refusesMovesItDoesNotHave_withoutThrowing() throws Exception {
        child = supervisor.spawn(echo(Map.of(), List.of()), Duration.ofSeconds(60));
        // a refused move returns false and changes nothing: never an exception under an owner's lock
        assertThat(child.moveTo(WorkerProcess.State.BUSY)).isFalse();
        assertThat(child.moveTo(WorkerProcess.State.DEAD)).isFalse();
        assertThat(child.state()).isEqualTo(WorkerProcess.State.STARTING);
        assertThat(child.moveTo(WorkerProcess.State.READY)).isTrue();
        assertThat(child.moveTo(WorkerProcess.State.BUSY)).isTrue();
        assertThat(child.moveTo(WorkerProcess.State.READY)).isTrue();
        assertThat(child.moveTo(WorkerProcess.State.RETIRING)).isTrue();
        assertThat(child.moveTo(WorkerProcess.State.READY)).isFalse();
        assertThat(child.state()).isEqualTo(WorkerProcess.State.RETIRING);
    }

    @Test
    void aDeadWorker_refusesEveryMove_soAnOwnerRacingTheExitChangesNothing() throws Exception {
        child = supervisor.spawn(echo(Map.of(), List.of()), Duration.ofSeconds(60));
        assertThat(child.moveTo(WorkerProcess.State.READY)).isTrue();
        child.kill(ExitCause.KILLED);
        Conditions.await("the worker is DEAD", Duration.ofSeconds(60), () -> child.state() == WorkerProcess.State.DEAD);
        for (WorkerProcess.State next : WorkerProcess.State.values()) {
            assertThat(child.moveTo(next)).as("move to %s", next).isFalse();
        }
        assertThat(child.state()).isEqualTo(WorkerProcess.State.DEAD);
    }

    @Test
    void aStartThatTimedOut_refusesALateReady_andTheExitSaysStartTimeout() throws Exception {
        child = supervisor.spawn(echo(Map.of(), List.of()), Duration.ofMillis(1));
        // the timeout takes STARTING with a compare-and-set: a READY after it loses, and the other way round
        Conditions.await("the start timed out", Duration.ofSeconds(60), () -> child.state() != WorkerProcess.State.STARTING);
        assertThat(child.moveTo(WorkerProcess.State.READY)).isFalse();
        Supervisor.Exit exit = exits.poll(60, TimeUnit.SECONDS);
        assertThat(exit).as("the child exited").isNotNull();
        assertThat(exit.cause()).isEqualTo(ExitCause.START_TIMEOUT);
        assertThat(child.state()).isEqualTo(WorkerProcess.State.DEAD);
    }

    @Test
    void aChildThatWasReadyThenExited_isNotKeptReachableByItsStartTimeout() throws Exception {
        WorkerProcess spawned = supervisor.spawn(echo(Map.of(), List.of()), Duration.ofHours(1));
        assertThat(connected.poll(60, TimeUnit.SECONDS)).as("the child proved its key").isNotNull();
        assertThat(spawned.moveTo(WorkerProcess.State.READY)).isTrue();
        released.complete(null); // the connection's thread lets go of it
        spawned.kill(ExitCause.KILLED);
        assertThat(exits.poll(60, TimeUnit.SECONDS)).as("the child exited").isNotNull();
        var ref = new java.lang.ref.WeakReference<>(spawned);
        spawned = null;
        // an hour-long timer still queued would keep it (and its Process and pumps) until it fired
        Conditions.await("the exited child is collected", Duration.ofSeconds(60), () -> {
            System.gc();
            return ref.get() == null;
        });
    }

    @Test
    void aChildStoppedWithAGracePeriod_thatExitsInTime_isNotKeptReachableByItsGraceKill() throws Exception {
        var crew = new io.multiproc4j.internal.supervise.Crew(supervisor, "echo", name -> echo(Map.of(), List.of()),
                Duration.ofHours(1), 1);
        WorkerProcess spawned = crew.spawn();
        assertThat(connected.poll(60, TimeUnit.SECONDS)).as("the child proved its key").isNotNull();
        assertThat(crew.ready(spawned)).isTrue();
        assertThat(crew.retire(spawned, ExitCause.RECYCLED)).isTrue();
        released.complete(null); // the connection's thread lets go of it
        Process process = spawned.process();
        crew.stop(spawned, process::destroy, Duration.ofHours(1)); // asked to stop, it exits at once
        Supervisor.Exit exit = exits.poll(60, TimeUnit.SECONDS);
        assertThat(exit).as("the child exited").isNotNull();
        assertThat(exit.cause()).isEqualTo(ExitCause.RECYCLED);
        var ref = new java.lang.ref.WeakReference<>(spawned);
        spawned = null;
        process = null;
        // an hour-long kill still queued would keep it (and its Process and pumps) until it fired:
        // with maxTasksPerChild(1), one per task
        Conditions.await("the stopped child is collected", Duration.ofSeconds(60), () -> {
            System.gc();
            return ref.get() == null;
        });
    }

    @Test
    void aCrewRetiresAChildAsIdle_onlyWhenItIsReadyAndIdlePastTheTimeout() throws Exception {
        var crew = new io.multiproc4j.internal.supervise.Crew(supervisor, "echo", name -> echo(Map.of(), List.of()),
                Duration.ofSeconds(60), 1);
        child = crew.spawn();
        Duration timeout = Duration.ofSeconds(1);
        long past = timeout.toNanos() + 1;
        // instants are passed in, not read: no timing in this test
        assertThat(crew.retireIfIdle(child, 0, past, timeout)).as("STARTING is not idle").isFalse();
        assertThat(crew.ready(child)).isTrue();
        assertThat(crew.retireIfIdle(child, 0, timeout.toNanos(), timeout)).as("idle exactly the timeout").isFalse();
        assertThat(child.moveTo(WorkerProcess.State.BUSY)).isTrue();
        assertThat(crew.retireIfIdle(child, 0, past, timeout)).as("BUSY is not idle").isFalse();
        assertThat(child.moveTo(WorkerProcess.State.READY)).isTrue();
        assertThat(crew.retireIfIdle(child, 0, past, timeout)).isTrue();
        assertThat(child.state()).isEqualTo(WorkerProcess.State.RETIRING);
        assertThat(child.retireCause()).isEqualTo(ExitCause.IDLE);
        assertThat(crew.retireIfIdle(child, 0, past, timeout)).as("retired already").isFalse();
        assertThat(io.multiproc4j.internal.supervise.Crew.replacedAtRetire(ExitCause.IDLE)).isFalse();
    }
}
