package io.multiproc4j.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.multiproc4j.BrokenPoolException;
import io.multiproc4j.SerializableFunction;
import io.multiproc4j.WorkerOutput;
import io.multiproc4j.internal.engine.ProcessEngine;
import io.multiproc4j.internal.engine.ProcessEngine.RunState;
import io.multiproc4j.spi.Codec;
import io.multiproc4j.sync.ProcessEvent;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Walks every edge of the process engine's lifecycle (the state machine in {@link ProcessEngine}'s
 * overview) through the SPI, with real worker JVMs: RUNNING → SHUTDOWN → TERMINATED,
 * RUNNING → STOP → TERMINATED, SHUTDOWN → STOP, and broken → STOP → TERMINATED.
 */
@Deadline(seconds = 150)
class ProcessEngineLifecycleTest {
    private static ProcessEngine start(List<String> jvmOptions) {
        return ProcessEngine.start(new ProcessEngine.Options(1, 0, 0, null, 0, null, jvmOptions, WorkerOutput.PREFIXED,
                Duration.ofSeconds(60), Codec.standard(), false, 2, null, false));
    }

    /** Sets {@code started}, then runs until {@code release} is set (or a minute passes). */
    private static OneInputBatch waitingFor(ProcessEvent started, ProcessEvent release) {
        return new OneInputBatch(x -> {
            started.set();
            try {
                return release.await(Duration.ofSeconds(60)) ? x : "the event was never set";
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        }, "done");
    }

    @Test
    void running_shutdown_finishesAcceptedWork_thenTerminates() throws Exception {
        try (ProcessEvent started = ProcessEvent.create(); ProcessEvent release = ProcessEvent.create()) {
            ProcessEngine engine = start(List.of());
            try {
                assertThat(engine.runState()).isEqualTo(RunState.RUNNING);
                OneInputBatch running = waitingFor(started, release);
                engine.execute(running);
                assertThat(started.await(Duration.ofSeconds(60))).isTrue();
                engine.shutdown();
                assertThat(engine.runState()).isEqualTo(RunState.SHUTDOWN); // the batch holds it there
                assertThatThrownBy(() -> engine.execute(new OneInputBatch(x -> x, 1)))
                        .isInstanceOf(RejectedExecutionException.class);
                release.set();
                assertThat(running.outcome.get(60, TimeUnit.SECONDS)).isEqualTo("done");
                assertThat(engine.awaitTermination(Duration.ofSeconds(60))).isTrue();
                assertThat(engine.runState()).isEqualTo(RunState.TERMINATED);
                assertThat(engine.stats().workersExited()).containsOnlyKeys("SHUTDOWN");
            } finally {
                engine.shutdownNow();
            }
        }
    }

    @Test
    void running_shutdownNow_failsRunningWork_killsWorkers_thenTerminates() throws Exception {
        try (ProcessEvent started = ProcessEvent.create(); ProcessEvent never = ProcessEvent.create()) {
            ProcessEngine engine = start(List.of());
            try {
                OneInputBatch running = waitingFor(started, never);
                engine.execute(running);
                assertThat(started.await(Duration.ofSeconds(60))).isTrue(); // running, not just queued
                assertThat(engine.shutdownNow()).isEmpty();
                assertThat(engine.runState()).isIn(RunState.STOP, RunState.TERMINATED);
                assertThatThrownBy(() -> running.outcome.get(60, TimeUnit.SECONDS))
                        .isInstanceOf(CancellationException.class);
                assertThat(engine.awaitTermination(Duration.ofSeconds(60))).isTrue();
                assertThat(engine.runState()).isEqualTo(RunState.TERMINATED);
                assertThat(engine.stats().workersExited()).containsOnlyKeys("KILLED");
                assertThat(engine.shutdownNow()).isEmpty(); // TERMINATED stays
                assertThat(engine.runState()).isEqualTo(RunState.TERMINATED);
            } finally {
                engine.shutdownNow();
            }
        }
    }

    @Test
    void shutdown_thenShutdownNow_stops() throws Exception {
        try (ProcessEvent started = ProcessEvent.create(); ProcessEvent never = ProcessEvent.create()) {
            ProcessEngine engine = start(List.of());
            try {
                OneInputBatch running = waitingFor(started, never);
                engine.execute(running);
                assertThat(started.await(Duration.ofSeconds(60))).isTrue(); // running, not just queued
                engine.shutdown();
                assertThat(engine.runState()).isEqualTo(RunState.SHUTDOWN);
                engine.shutdownNow();
                assertThatThrownBy(() -> running.outcome.get(60, TimeUnit.SECONDS)).isInstanceOf(CancellationException.class);
                assertThat(engine.awaitTermination(Duration.ofSeconds(60))).isTrue();
            } finally {
                engine.shutdownNow();
            }
        }
    }

    @Test
    void workersThatCannotStart_breakTheEngine_whichStopsAndTerminates() throws Exception {
        ProcessEngine engine = start(List.of("-XX:+ThisOptionDoesNotExist"));
        try {
            OneInputBatch waiting = new OneInputBatch(x -> x, 1);
            engine.execute(waiting);
            assertThatThrownBy(() -> waiting.outcome.get(60, TimeUnit.SECONDS))
                    .hasCauseInstanceOf(BrokenPoolException.class);
            assertThat(engine.brokenReason()).hasMessageContaining("ThisOptionDoesNotExist");
            assertThat(engine.awaitTermination(Duration.ofSeconds(60))).isTrue();
            assertThat(engine.runState()).isEqualTo(RunState.TERMINATED);
            OneInputBatch late = new OneInputBatch(x -> x, 2);
            engine.execute(late); // a broken engine fails new work with the reason, it does not queue it
            assertThat(late.outcome).isCompletedExceptionally();
            assertThat(engine.stats().workersExited()).containsOnlyKeys("START_FAILED");
        } finally {
            engine.shutdownNow();
        }
    }
}
