package io.multiproc4j.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.multiproc4j.BrokenPoolException;
import io.multiproc4j.Pool;
import io.multiproc4j.PoolState;
import io.multiproc4j.RemoteTaskException;
import io.multiproc4j.TaskFailedException;
import io.multiproc4j.TaskTimeoutException;
import io.multiproc4j.WorkerOutput;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.Serial;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** What only a pool of worker JVMs does: recycling, timeouts, initializers, isolation, breaking. */
@Deadline(seconds = 90)
class ProcessPoolBehaviourTest {
    private static final long TEST_PID = ProcessHandle.current().pid();

    private static List<Integer> range(int n) {
        return IntStream.range(0, n).boxed().toList();
    }

    private static Set<Long> descendants() {
        Set<Long> pids = new HashSet<>();
        ProcessHandle.current().descendants().filter(ProcessHandle::isAlive).forEach(p -> pids.add(p.pid()));
        return pids;
    }

    @Test
    void tasksRunInOtherProcesses() {
        try (Pool pool = Pool.processes(2)) {
            List<Long> pids = pool.map((Integer x) -> ProcessHandle.current().pid(), range(20), 1);
            assertThat(pids).doesNotContain(TEST_PID);
            assertThat(pool.workers()).isEqualTo(2);
        }
    }

    @Test
    void maxTasksPerChild_replacesWorkerAfterItsShare() {
        try (Pool pool = Pool.builder().processes(1).maxTasksPerChild(3).build()) {
            List<Long> pids = pool.map((Integer x) -> ProcessHandle.current().pid(), range(7), 1);
            assertThat(pids.subList(0, 3)).containsOnly(pids.get(0));
            assertThat(pids.subList(3, 6)).containsOnly(pids.get(3));
            assertThat(new HashSet<>(List.of(pids.get(0), pids.get(3), pids.get(6)))).hasSize(3);
        }
    }

    @Test
    void maxMemoryPerChild_replacesWorkerThatGrewPastTheLimit() {
        try (Pool pool = Pool.builder().processes(1).maxMemoryPerChild(160L << 20).build()) {
            List<Long> pids = pool.map((Integer x) -> {
                if (x == 2) {
                    Hog.retain(256 << 20); // the worker's resident size grows past the limit
                }
                return ProcessHandle.current().pid();
            }, range(5), 1);
            assertThat(pids.subList(0, 3)).containsOnly(pids.get(0));
            assertThat(pids.get(3)).isNotEqualTo(pids.get(0));
            assertThat(pids.get(4)).isEqualTo(pids.get(3));
        }
    }

    @Test
    void taskTimeout_killsOnlyTheLateTask_andPoolGoesOn() throws Exception {
        try (Pool pool = Pool.builder().processes(2).taskTimeout(Duration.ofMillis(500)).build()) {
            CompletableFuture<Long> late = pool.applyAsync((Integer x) -> {
                new Bomb(Bomb.Stage.RUN, Bomb.Death.HANG).detonate();
                return 0L;
            }, 0);
            List<Integer> others = pool.map((Integer x) -> x * 3, range(100), 5);
            assertThat(others).isEqualTo(range(100).stream().map(x -> x * 3).toList());
            assertThatThrownBy(() -> late.get(20, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
                    .cause().isInstanceOf(TaskTimeoutException.class).hasMessageContaining("500 ms")
                    .hasMessageContaining("killed and replaced");
            assertThat(pool.map((Integer x) -> x + 1, range(10))).isEqualTo(IntStream.range(1, 11).boxed().toList());
        }
    }

    @Test
    void initializer_runsOncePerWorker_beforeItsFirstTask() {
        try (Pool pool = Pool.builder().processes(2).initializer(() -> System.setProperty("initialized", "yes")).build()) {
            assertThat(pool.map((Integer x) -> System.getProperty("initialized"), range(20), 1)).containsOnly("yes");
        }
    }

    @Test
    void initializerThatThrows_breaksPool_namingTheError_andLeavesNoWorker() throws Exception {
        Set<Long> before = descendants();
        Pool pool = Pool.builder().processes(2).workerOutput(WorkerOutput.DISCARD)
                .initializer(() -> {
                    throw new IllegalStateException("no licence for the native library");
                }).build();
        try {
            assertThatThrownBy(() -> pool.map((Integer x) -> x, range(10)))
                    .isInstanceOf(BrokenPoolException.class).hasMessageContaining("initializer")
                    .hasMessageContaining("no licence for the native library");
            assertThat(pool.state()).isEqualTo(PoolState.BROKEN);
            assertThatThrownBy(() -> pool.applyAsync((Integer x) -> x, 1)).isInstanceOf(BrokenPoolException.class);
            assertThat(pool.awaitTermination(Duration.ofSeconds(20))).isTrue();
            Conditions.await("the broken pool's workers to exit", Duration.ofSeconds(10),
                    () -> before.containsAll(descendants()));
        } finally {
            pool.terminate();
        }
    }

    @Test
    void badJvmOption_breaksPool_withTheWorkersStderr() {
        Pool pool = Pool.builder().processes(2).jvmOptions("-XX:+NoSuchOptionAnywhere")
                .workerOutput(WorkerOutput.DISCARD).build();
        try {
            assertThatThrownBy(() -> pool.map((Integer x) -> x, range(4)))
                    .isInstanceOf(BrokenPoolException.class).hasMessageContaining("cannot start")
                    .hasMessageContaining("NoSuchOptionAnywhere");
            assertThat(pool.state()).isEqualTo(PoolState.BROKEN);
        } finally {
            pool.close();
        }
        assertThat(pool.state()).isEqualTo(PoolState.TERMINATED);
    }

    @Test
    void lambdaCapturingNonSerializable_isRefusedAtTheCall_namingTheClass() {
        try (Pool pool = Pool.processes(1)) {
            Thread captured = Thread.currentThread();
            assertThatThrownBy(() -> pool.map((Integer x) -> captured.getName() + x, range(3)))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("java.lang.Thread")
                    .hasMessageContaining("Serializable");
            assertThat(pool.map((Integer x) -> x + 1, range(3))).containsExactly(1, 2, 3);
        }
    }

    @Test
    void nonSerializableArgument_failsTheCall_andPoolStaysHealthy() {
        try (Pool pool = Pool.processes(1)) {
            assertThatThrownBy(() -> pool.map((Object x) -> 1, List.of(1, new Object()), 1))
                    .isInstanceOf(TaskFailedException.class).hasMessageContaining("input 1 (a java.lang.Object)");
            assertThat(pool.map((Integer x) -> x + 1, range(3))).containsExactly(1, 2, 3);
        }
    }

    @Test
    void nonSerializableResult_failsThatTask_andTheWorkerLives() {
        try (Pool pool = Pool.processes(1)) {
            long pid = pool.map((Integer x) -> ProcessHandle.current().pid(), range(1)).getFirst();
            assertThatThrownBy(() -> pool.map((Integer x) -> x == 1 ? new Object() : x, range(3), 3))
                    .isInstanceOf(TaskFailedException.class).hasStackTraceContaining("java.lang.Object")
                    .satisfies(e -> assertThat(((TaskFailedException) e).taskIndex()).isEqualTo(1));
            assertThat(pool.map((Integer x) -> ProcessHandle.current().pid(), range(1))).containsExactly(pid);
        }
    }

    @Test
    void exceptionThatCannotTravel_arrivesAsRemoteTaskException_withClassMessageAndStack() {
        try (Pool pool = Pool.processes(1)) {
            assertThatThrownBy(() -> pool.map((Integer x) -> {
                throw new Unsendable("kept the message");
            }, range(1))).isInstanceOf(TaskFailedException.class).cause()
                    .isInstanceOf(RemoteTaskException.class)
                    .hasMessageContaining(Unsendable.class.getName()).hasMessageContaining("kept the message")
                    .satisfies(e -> assertThat(((RemoteTaskException) e).remoteClassName()).isEqualTo(Unsendable.class.getName()))
                    .satisfies(e -> assertThat(e.getStackTrace()).isNotEmpty());
        }
    }

    @Test
    void workerOutput_isForwardedWithWorkerPrefix() throws Exception {
        PrintStream original = System.out;
        var captured = new ByteArrayOutputStream();
        System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
        try (Pool pool = Pool.processes(1)) {
            pool.map((Integer x) -> {
                System.out.println("hello from task " + x);
                return x;
            }, range(1));
        } finally {
            System.setOut(original);
        }
        assertThat(captured.toString(StandardCharsets.UTF_8)).contains("[worker-1] hello from task 0");
    }

    @Test
    void states_walkFromRunningThroughClosingToTerminated() throws Exception {
        var gate = new java.util.concurrent.CountDownLatch(1);
        Gate.latch = gate;
        Pool pool = Pool.threads(1);
        assertThat(pool.state()).isEqualTo(PoolState.RUNNING);
        CompletableFuture<List<Integer>> held = pool.mapAsync((Integer x) -> Gate.pass(x), range(1));
        var closer = CompletableFuture.runAsync(pool::close);
        Conditions.await("the pool to be CLOSING", Duration.ofSeconds(10), () -> pool.state() == PoolState.CLOSING);
        assertThatThrownBy(() -> pool.map((Integer x) -> x, range(1))).isInstanceOf(IllegalStateException.class);
        gate.countDown();
        closer.get(10, TimeUnit.SECONDS);
        assertThat(held.get()).containsExactly(0);
        assertThat(pool.state()).isEqualTo(PoolState.TERMINATED);

        Pool terminated = Pool.processes(1);
        terminated.terminate();
        assertThat(terminated.state()).isEqualTo(PoolState.TERMINATED);
        assertThat(terminated.awaitTermination(Duration.ofSeconds(20))).isTrue();
    }

    @Test
    void builder_refusesBadOptions_atTheCall() {
        assertThatThrownBy(() -> Pool.processes(0)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("processes must be >= 1, was 0");
        assertThatThrownBy(() -> Pool.threads(-2)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("threads must be >= 1, was -2");
        assertThatThrownBy(() -> Pool.builder().maxTasksPerChild(-1)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Pool.builder().taskTimeout(Duration.ZERO)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Pool.builder().threads(2).taskTimeout(Duration.ofSeconds(1)).build())
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("need worker processes");
    }

    /** An exception whose field does not serialize, so it cannot travel as itself. */
    static final class Unsendable extends RuntimeException {
        @Serial
        private static final long serialVersionUID = 1L;
        @SuppressWarnings({"serial", "unused"})
        private final Object notSerializable = new Object();

        Unsendable(String message) {
            super(message);
        }
    }

    /** Memory a task keeps alive in its worker. */
    static final class Hog {
        static byte[] kept;

        static void retain(int bytes) {
            kept = new byte[bytes];
            for (int i = 0; i < bytes; i += 4096) {
                kept[i] = 1; // touch each page so it is resident
            }
        }
    }

    /** A gate that holds a thread-pool task until the test opens it. */
    static final class Gate {
        static volatile java.util.concurrent.CountDownLatch latch;

        static int pass(int x) {
            try {
                latch.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return x;
        }
    }
}
