package io.multiproc4j.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import io.multiproc4j.Pool;
import io.multiproc4j.TaskFailedException;
import io.multiproc4j.TaskTimeoutException;
import io.multiproc4j.WorkerCrashedException;
import io.multiproc4j.WorkerOutput;
import io.multiproc4j.testkit.Bomb.Death;
import io.multiproc4j.testkit.Bomb.Stage;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Each stage of a task's round trip × each way to die → the expected exception, within a deadline,
 * and the pool then runs a map correctly. Deaths that would kill the test JVM itself (exit, halt,
 * SIGKILL, OOM, hang in the pool's own JVM) are only injected in the worker's stages. The task
 * timeout (5 s) also bounds the map that follows each case, whose first batch may land on a
 * replacement worker decoding its first function cold while another JVM starts: 2 s was hit on a
 * loaded 2-core machine.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Deadline(seconds = 60)
class ProcessPoolFaultMatrixTest {
    private Pool pool;

    @BeforeAll
    void start() {
        pool = Pool.builder().processes(2).taskTimeout(Duration.ofSeconds(5)).jvmOptions("-Xmx64m")
                .workerOutput(WorkerOutput.DISCARD).build();
    }

    @AfterAll
    void stop() {
        pool.terminate();
    }

    static Stream<Arguments> cases() {
        List<Arguments> cases = new ArrayList<>();
        for (Stage stage : Stage.values()) {
            for (Death death : Death.values()) {
                if (stage.inWorker() || death == Death.THROW) {
                    cases.add(Arguments.of(stage, death));
                }
            }
        }
        return cases.stream();
    }

    @ParameterizedTest(name = "{0} × {1}")
    @MethodSource("cases")
    void fault_failsOnlyItsTask_withTheRightException_andPoolGoesOn(Stage stage, Death death) throws Exception {
        var future = pool.applyAsync(Bomb.task(), new Bomb(stage, death));
        Throwable failure;
        try {
            future.get(30, TimeUnit.SECONDS);
            throw new AssertionError("the bomb did not go off");
        } catch (ExecutionException e) {
            failure = e.getCause();
        }
        assertThat(failure).isInstanceOf(TaskFailedException.class);
        var taskFailure = (TaskFailedException) failure;
        assertThat(taskFailure.taskIndex()).isZero();
        switch (death) {
            case THROW -> assertThat(failure).isExactlyInstanceOf(TaskFailedException.class)
                    .hasStackTraceContaining("bomb went off at " + stage);
            case EXIT -> assertThat(crash(failure).exitCode()).isEqualTo(42);
            case HALT -> assertThat(crash(failure).exitCode()).isEqualTo(43);
            case SIGKILL -> assertThat(crash(failure).signal()).isEqualTo(9);
            case OOM -> assertThat(crash(failure).stderrTail()).anyMatch(line -> line.contains("OutOfMemoryError"));
            case HANG -> assertThat(failure).isInstanceOf(TaskTimeoutException.class)
                    .hasMessageContaining("timeout of 5000 ms");
        }
        if (stage.inWorker() && death != Death.THROW) {
            assertThat(taskFailure.worker()).isNotNull();
            assertThat(Conditions.alive(taskFailure.worker().pid())).isFalse();
        }
        assertThat(pool.map((Integer x) -> x + 1, IntStream.range(0, 200).boxed().toList(), 7))
                .isEqualTo(IntStream.range(1, 201).boxed().toList());
    }

    private static WorkerCrashedException crash(Throwable failure) {
        assertThat(failure).isInstanceOf(WorkerCrashedException.class);
        return (WorkerCrashedException) failure;
    }
}
