package io.multiproc4j.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.multiproc4j.BrokenPoolException;
import io.multiproc4j.SerializableFunction;
import io.multiproc4j.WorkerOutput;
import io.multiproc4j.internal.engine.ProcessEngine;
import io.multiproc4j.internal.engine.ProcessEngine.RunState;
import io.multiproc4j.spi.Batch;
import io.multiproc4j.spi.Codec;
import io.multiproc4j.sync.ProcessEvent;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * Walks every edge of the process engine's lifecycle (the state machine in {@link ProcessEngine}'s
 * overview) through the SPI, with real worker JVMs: RUNNING → SHUTDOWN → TERMINATED,
 * RUNNING → STOP → TERMINATED, SHUTDOWN → STOP, and broken → STOP → TERMINATED.
 */
@Deadline(seconds = 150)
class ProcessEngineLifecycleTest {
    private static final AtomicLong FUNCTION_IDS = new AtomicLong(1L << 40);

    private static ProcessEngine start(List<String> jvmOptions) {
        return ProcessEngine.start(new ProcessEngine.Options(1, 0, 0, null, 0, null, jvmOptions, WorkerOutput.PREFIXED,
                Duration.ofSeconds(60), Codec.standard(), false, 2, null, false));
    }

    /** A batch of one input whose outcome is a future; the engine encodes its function itself. */
    private static final class OneBatch implements Batch {
        final CompletableFuture<Object> outcome = new CompletableFuture<>();
        private final SerializableFunction<Object, Object> function;
        private final long functionId = FUNCTION_IDS.incrementAndGet();
        private final Object input;

        OneBatch(SerializableFunction<Object, Object> function, Object input) {
            this.function = function;
            this.input = input;
        }

        @Override
        public SerializableFunction<Object, Object> function() {
            return function;
        }

        @Override
        public long functionId() {
            return functionId;
        }

        @Override
        public List<Object> inputs() {
            List<Object> inputs = new ArrayList<>(1);
            inputs.add(input);
            return inputs;
        }

        @Override
        public long firstIndex() {
            return 0;
        }

        @Override
        public boolean isCancelled() {
            return false;
        }

        @Override
        public void deliver(int offset, List<?> results) {
            outcome.complete(results.getFirst());
        }

        @Override
        public void fail(int offset, RuntimeException failure) {
            outcome.completeExceptionally(failure);
        }
    }

    /** Sets {@code started}, then runs until {@code release} is set (or a minute passes). */
    private static OneBatch waitingFor(ProcessEvent started, ProcessEvent release) {
        return new OneBatch(x -> {
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
                OneBatch running = waitingFor(started, release);
                engine.execute(running);
                assertThat(started.await(Duration.ofSeconds(60))).isTrue();
                engine.shutdown();
                assertThat(engine.runState()).isEqualTo(RunState.SHUTDOWN); // the batch holds it there
                assertThatThrownBy(() -> engine.execute(new OneBatch(x -> x, 1)))
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
                OneBatch running = waitingFor(started, never);
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
                OneBatch running = waitingFor(started, never);
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
            OneBatch waiting = new OneBatch(x -> x, 1);
            engine.execute(waiting);
            assertThatThrownBy(() -> waiting.outcome.get(60, TimeUnit.SECONDS))
                    .hasCauseInstanceOf(BrokenPoolException.class);
            assertThat(engine.brokenReason()).hasMessageContaining("ThisOptionDoesNotExist");
            assertThat(engine.awaitTermination(Duration.ofSeconds(60))).isTrue();
            assertThat(engine.runState()).isEqualTo(RunState.TERMINATED);
            OneBatch late = new OneBatch(x -> x, 2);
            engine.execute(late); // a broken engine fails new work with the reason, it does not queue it
            assertThat(late.outcome).isCompletedExceptionally();
            assertThat(engine.stats().workersExited()).containsOnlyKeys("START_FAILED");
        } finally {
            engine.shutdownNow();
        }
    }
}
