package io.multiproc4j.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.multiproc4j.BrokenPoolException;
import io.multiproc4j.CrashPolicy;
import io.multiproc4j.ProcessPoolExecutor;
import io.multiproc4j.SerializableCallable;
import io.multiproc4j.TaskExecutor;
import io.multiproc4j.WorkerCrashedException;
import io.multiproc4j.WorkerOutput;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What only an executor of worker JVMs does (CPython's process-executor tests, and more). */
@Deadline(seconds = 90)
class ProcessExecutorBehaviourTest {

    private static long pid() {
        return ProcessHandle.current().pid();
    }

    private static long workerJvms() {
        try (Stream<ProcessHandle> children = ProcessHandle.current().children()) {
            return children.filter(ProcessHandle::isAlive)
                    .filter(p -> p.info().arguments().map(a -> String.join(" ", a).contains("WorkerMain")).orElse(false))
                    .count();
        }
    }

    /** Says which worker started (a file per pid), then blocks until the gate file exists. */
    static long waitFor(String file) {
        Path gate = Path.of(file);
        try {
            Files.writeString(Path.of(file + ".started." + ProcessHandle.current().pid()), "");
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        long end = System.nanoTime() + 30_000_000_000L;
        while (!Files.exists(gate)) {
            if (System.nanoTime() - end > 0) {
                // fail the task, so a test that expected the gate to open (or the task to be killed
                // first) cannot pass on a task that just gave up
                throw new IllegalStateException("gate " + gate + " was not opened within 30 s");
            }
            java.util.concurrent.locks.LockSupport.parkNanos(2_000_000);
        }
        return ProcessHandle.current().pid();
    }

    @Test
    void sequentialSubmits_useOneWorker() throws Exception {
        long before = workerJvms();
        try (TaskExecutor executor = ProcessPoolExecutor.create(4)) {
            Set<Long> pids = new HashSet<>();
            for (int i = 0; i < 3; i++) {
                pids.add(executor.submit(ProcessExecutorBehaviourTest::pid).get(30, TimeUnit.SECONDS));
            }
            assertThat(pids).hasSize(1);
            assertThat(workerJvms() - before).isEqualTo(1);
        }
    }

    @Test
    void manyBlockedTasks_startExactlyMaxWorkers(@TempDir Path dir) throws Exception {
        String gate = dir.resolve("open").toString();
        long before = workerJvms();
        try (TaskExecutor executor = ProcessPoolExecutor.create(2)) {
            List<CompletableFuture<Long>> futures = new ArrayList<>();
            for (int i = 0; i < 30; i++) {
                futures.add(executor.submit(() -> waitFor(gate)));
            }
            Conditions.await("two workers to run a task each", Duration.ofSeconds(30), () -> startedFiles(dir) == 2);
            assertThat(workerJvms() - before).isEqualTo(2);
            Files.createFile(Path.of(gate));
            Set<Long> pids = new HashSet<>();
            for (var f : futures) {
                pids.add(f.get(60, TimeUnit.SECONDS));
            }
            assertThat(pids).hasSize(2);
        }
    }

    private static long startedFiles(Path dir) {
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(p -> p.getFileName().toString().contains(".started.")).count();
        } catch (java.io.IOException e) {
            return 0;
        }
    }

    @Test
    void cancelTrue_ofRunningTask_killsItsWorker_andTheExecutorGoesOn(@TempDir Path dir) throws Exception {
        String gate = dir.resolve("never-opened").toString();
        try (TaskExecutor executor = ProcessPoolExecutor.create(1)) {
            long firstPid = executor.submit(ProcessExecutorBehaviourTest::pid).get(30, TimeUnit.SECONDS);
            CompletableFuture<Long> stuck = executor.submit(() -> waitFor(gate));
            CompletableFuture<Long> queuedBehind = executor.submit(ProcessExecutorBehaviourTest::pid);
            Conditions.await("the stuck task to be running", Duration.ofSeconds(10), () -> startedFiles(dir) == 1);
            assertThat(stuck.cancel(true)).isTrue();
            assertThat(stuck.isCancelled()).isTrue();
            Conditions.await("the worker running the cancelled task to die", Duration.ofSeconds(10),
                    () -> !Conditions.alive(firstPid));
            long nextPid = queuedBehind.get(30, TimeUnit.SECONDS);
            assertThat(nextPid).isNotEqualTo(firstPid);
        }
    }

    @Test
    void cancelFalse_ofQueuedTask_dropsIt(@TempDir Path dir) throws Exception {
        Gate gate = Gate.in(dir);
        TaskExecutor executor = ProcessPoolExecutor.create(1);
        try {
            CompletableFuture<Integer> first = executor.submit(() -> {
                gate.mark("first");
                gate.awaitOpen();
                return 1;
            });
            CompletableFuture<Integer> dropped = executor.submit(() -> {
                gate.mark("dropped-ran");
                return 0;
            });
            Conditions.await("the first task to start", Duration.ofSeconds(30), () -> gate.marked("first"));
            assertThat(dropped.cancel(false)).isTrue();
            gate.open();
            assertThat(first.get(30, TimeUnit.SECONDS)).isEqualTo(1);
            assertThat(executor.submit(() -> 2).get(30, TimeUnit.SECONDS)).isEqualTo(2);
            executor.shutdown();
            assertThat(executor.awaitTermination(30, TimeUnit.SECONDS)).isTrue();
            assertThat(gate.marked("dropped-ran")).as("the cancelled task ran").isFalse();
        } finally {
            gate.open();
            executor.shutdownNow();
        }
    }

    @Test
    void maxTasksPerChild_withOneWorker_tasksOneToThreeShareAPid_fourthGetsANewOne() throws Exception {
        try (TaskExecutor executor = ProcessPoolExecutor.builder().processes(1).maxTasksPerChild(3).buildExecutor()) {
            List<Long> pids = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                pids.add(executor.submit(ProcessExecutorBehaviourTest::pid).get(30, TimeUnit.SECONDS));
            }
            assertThat(pids.subList(0, 3)).containsOnly(pids.get(0));
            assertThat(pids.get(3)).isNotEqualTo(pids.get(0));
        }
    }

    @Test
    void initializerThatThrows_failsPendingAndLaterSubmissions_namingIt() throws Exception {
        TaskExecutor executor = ProcessPoolExecutor.builder().processes(2).workerOutput(WorkerOutput.DISCARD)
                .initializer(() -> {
                    throw new IllegalStateException("config file missing");
                }).buildExecutor();
        try {
            CompletableFuture<Integer> pending = executor.submit(() -> 1);
            assertThatThrownBy(() -> pending.get(30, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
                    .cause().isInstanceOf(BrokenPoolException.class).hasMessageContaining("config file missing");
            assertThatThrownBy(() -> executor.submit(() -> 2).get(30, TimeUnit.SECONDS))
                    .hasMessageContaining("config file missing");
        } finally {
            executor.shutdownNow();
        }
    }

    @Test
    void workerKilledMidTask_failsOnlyThatFuture_underTheDefaultPolicy() throws Exception {
        try (TaskExecutor executor = ProcessPoolExecutor.builder().processes(2).workerOutput(WorkerOutput.DISCARD)
                .buildExecutor()) {
            CompletableFuture<Integer> doomed = executor.submit(() -> {
                Runtime.getRuntime().halt(9);
                return 0;
            });
            List<CompletableFuture<Integer>> others = new ArrayList<>();
            for (int i = 0; i < 10; i++) {
                int n = i;
                others.add(executor.submit(() -> n));
            }
            assertThatThrownBy(() -> doomed.get(30, TimeUnit.SECONDS)).cause().isInstanceOf(WorkerCrashedException.class);
            for (int i = 0; i < 10; i++) {
                assertThat(others.get(i).get(30, TimeUnit.SECONDS)).isEqualTo(i);
            }
        }
    }

    @Test
    void workerKilledMidTask_breaksTheExecutor_underTheFailFastPolicy(@TempDir Path dir) throws Exception {
        String gate = dir.resolve("never-opened").toString();
        TaskExecutor executor = ProcessPoolExecutor.builder().processes(2).crashPolicy(CrashPolicy.BREAK_EXECUTOR)
                .workerOutput(WorkerOutput.DISCARD).buildExecutor();
        try {
            CompletableFuture<Long> waiting = executor.submit(() -> waitFor(gate)); // occupies one worker
            CompletableFuture<Integer> doomed = executor.submit(() -> {                // kills the other
                Runtime.getRuntime().halt(9);
                return 0;
            });
            List<CompletableFuture<Long>> queued = new ArrayList<>();
            for (int i = 0; i < 5; i++) {
                queued.add(executor.submit(() -> waitFor(gate)));
            }
            assertThatThrownBy(() -> doomed.get(30, TimeUnit.SECONDS)).cause().isInstanceOf(WorkerCrashedException.class);
            assertThatThrownBy(() -> waiting.get(30, TimeUnit.SECONDS)).cause().isInstanceOf(BrokenPoolException.class);
            for (var f : queued) {
                assertThatThrownBy(() -> f.get(30, TimeUnit.SECONDS)).cause().isInstanceOf(BrokenPoolException.class)
                        .hasMessageContaining("died abruptly");
            }
            assertThatThrownBy(() -> executor.submit(() -> 1).get(30, TimeUnit.SECONDS))
                    .hasMessageContaining("died abruptly");
        } finally {
            executor.shutdownNow();
        }
    }

    @Test
    void plainCallableThatIsNotSerializable_isRejectedAtSubmission_sayingHowToFixIt() {
        try (TaskExecutor executor = ProcessPoolExecutor.create(1)) {
            Callable<Integer> plain = new Callable<>() {
                @Override
                public Integer call() {
                    return 1;
                }
            };
            assertThatThrownBy(() -> executor.submit(plain)).isInstanceOf(RejectedExecutionException.class)
                    .hasMessageContaining("must be serializable").hasMessageContaining("lambda")
                    .hasMessageContaining(plain.getClass().getName());
            assertThatThrownBy(() -> executor.execute(() -> { })).as("a plain Runnable lambda")
                    .isInstanceOf(RejectedExecutionException.class).hasMessageContaining("must be serializable");
            Object notSerializable = new Object();
            assertThatThrownBy(() -> executor.submit(() -> notSerializable.hashCode()))
                    .isInstanceOf(RejectedExecutionException.class).hasMessageContaining("java.lang.Object");
            executor.shutdown();
            assertThatThrownBy(() -> executor.submit(() -> 1)).isInstanceOf(RejectedExecutionException.class);
        }
    }

    @Test
    void completionService_runsSerializableTasksInWorkers_andRejectsOthersAtSubmission() throws Exception {
        try (TaskExecutor executor = ProcessPoolExecutor.create(1)) {
            var service = new java.util.concurrent.ExecutorCompletionService<Long>(executor);
            SerializableCallable<Long> task = ProcessExecutorBehaviourTest::pid; // submit takes a plain Callable
            Future<Long> inWorker = service.submit(task);
            assertThat(service.take()).isSameAs(inWorker);
            assertThat(inWorker.get()).isNotEqualTo(pid());
            Callable<Long> plain = new Callable<>() {
                @Override
                public Long call() {
                    return 1L;
                }
            };
            assertThatThrownBy(() -> service.submit(plain)).isInstanceOf(RejectedExecutionException.class)
                    .hasMessageContaining("must be serializable");
            assertThat(service.poll()).as("the rejected task left nothing behind").isNull();
        }
    }

    @Test
    void jdkWrappersThatHideTheirTask_areRejected_sayingToSubmitTheTaskItself() {
        try (TaskExecutor executor = ProcessPoolExecutor.create(1)) {
            Runnable task = (Runnable & java.io.Serializable) () -> { };
            assertThatThrownBy(() -> CompletableFuture.runAsync(task, executor))
                    .isInstanceOf(RejectedExecutionException.class).hasMessageContaining("submit the task itself");
            assertThatThrownBy(() -> executor.execute(new java.util.concurrent.FutureTask<>(task, null)))
                    .isInstanceOf(RejectedExecutionException.class).hasMessageContaining("FutureTask")
                    .hasMessageContaining("submit the task itself");
        }
    }

    @Test
    void idleWorkers_retireAfterTheIdleTimeout_andNewOnesStartOnDemand() throws Exception {
        try (TaskExecutor executor = ProcessPoolExecutor.builder().processes(1)
                .idleWorkerTimeout(Duration.ofMillis(200)).buildExecutor()) {
            long first = executor.submit(ProcessExecutorBehaviourTest::pid).get(30, TimeUnit.SECONDS);
            Conditions.await("the idle worker to retire", Duration.ofSeconds(10), () -> !Conditions.alive(first));
            long second = executor.submit(ProcessExecutorBehaviourTest::pid).get(30, TimeUnit.SECONDS);
            assertThat(second).isNotEqualTo(first);
        }
    }

    @Test
    void invokeAll_ofManyTinyTasks_goesInChunks_andAFailureFailsOnlyItsFuture() throws Exception {
        try (TaskExecutor executor = ProcessPoolExecutor.create(2)) {
            List<Callable<Integer>> tasks = new ArrayList<>();
            for (int i = 0; i < 2_000; i++) {
                int n = i;
                tasks.add((Callable<Integer> & java.io.Serializable) () -> {
                    if (n == 777) {
                        throw new IllegalArgumentException("777 is unlucky");
                    }
                    return n * 2;
                });
            }
            List<java.util.concurrent.Future<Integer>> futures = executor.invokeAll(tasks);
            for (int i = 0; i < 2_000; i++) {
                if (i == 777) {
                    int index = i;
                    assertThatThrownBy(() -> futures.get(index).get()).isInstanceOf(ExecutionException.class)
                            .cause().isInstanceOf(IllegalArgumentException.class).hasMessage("777 is unlucky");
                } else {
                    assertThat(futures.get(i).get()).isEqualTo(i * 2);
                }
            }
            assertThatThrownBy(() -> executor.invokeAll(List.of((Callable<Integer> & java.io.Serializable) () -> 1,
                    new Callable<Integer>() {
                        @Override
                        public Integer call() {
                            return 2;
                        }
                    }))).isInstanceOf(RejectedExecutionException.class).hasMessageContaining("must be serializable");
        }
    }

    @Test
    void cancelledFuture_reportsCancellation_notAFailure() throws Exception {
        try (TaskExecutor executor = ProcessPoolExecutor.create(1)) {
            CompletableFuture<Integer> f = executor.submit(() -> TaskExecutorContract.slow(10_000, 1));
            f.cancel(true);
            assertThatThrownBy(() -> f.get(1, TimeUnit.SECONDS)).isInstanceOf(CancellationException.class);
        }
    }
}
