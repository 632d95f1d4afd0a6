package io.multiproc4j.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.multiproc4j.server.internal.HttpLoad;
import io.multiproc4j.testkit.Conditions;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

class LifecycleTest {
    @Test
    void maxRequestsPerWorker_recyclesWorkers_withoutFailingARequest() throws Exception {
        List<String> log = new CopyOnWriteArrayList<>();
        try (Supervisor server = Supervisor.builder().http(TestApps.Hello.class).sharing(PortSharing.SHARED_SOCKET)
                .model(WorkerModel.prefork(2)).maxRequestsPerWorker(60).log(log::add).start()) {
            HttpLoad.Run load = HttpLoad.start(server.port(), "/", 4, 1_000_000, true);
            try {
                Conditions.await("both first workers recycled", Duration.ofSeconds(90),
                        () -> log.stream().filter(l -> l.contains("exited: stopped (recycled after")).count() >= 2);
                long atRecycle = load.completed();
                Conditions.await("requests after the recycling", Duration.ofSeconds(60), () -> load.completed() >= atRecycle + 100);
            } finally {
                load.stop();
            }
            HttpLoad.Result result = load.await();
            assertThat(result.failed()).as(result.toString()).isZero();
            assertThat(result.perWorker().size()).as("more workers served than the two started: " + result)
                    .isGreaterThan(2);
            assertThat(server.workers()).anyMatch(w -> w.restarts() >= 1 && w.lastRestart().startsWith("recycled after"));
            assertThat(log).as("supervision's exit cause of a recycled worker")
                    .filteredOn(l -> l.contains("exited: stopped (recycled after")).allMatch(l -> l.endsWith("[RECYCLED]"));
        }
    }

    @Test
    void hybrid_scalesUpUnderLoad_andBackDownWhenIdle() throws Exception {
        List<String> log = new CopyOnWriteArrayList<>();
        try (Supervisor server = Supervisor.builder().http(TestApps.Hello.class).sharing(PortSharing.SHARED_SOCKET)
                .model(WorkerModel.hybrid(1, 3, Duration.ofSeconds(1))).log(log::add).start()) {
            assertThat(server.workers()).hasSize(1);
            HttpLoad.Run load = HttpLoad.start(server.port(), "/?cpu=5", 6, 1_000_000, true);
            try {
                Conditions.await("a second worker under load", Duration.ofSeconds(90), () -> server.workers().stream()
                        .filter(w -> w.state() == WorkerInfo.State.READY).count() >= 2);
            } finally {
                load.stop();
            }
            HttpLoad.Result result = load.await();
            assertThat(result.failed()).as(result.toString()).isZero();
            try {
                Conditions.await("back to one worker when idle", Duration.ofSeconds(90), () -> server.workers().size() == 1);
            } catch (AssertionError e) {
                throw new AssertionError(e.getMessage() + "; workers " + server.workers() + "; log " + log, e);
            }
            assertThat(log).anyMatch(l -> l.startsWith("scale up")).anyMatch(l -> l.startsWith("scale down"));
        }
    }

    @Test
    void onDemand_startsAWorkerForAConnectionWhenItHasNone() throws Exception {
        try (Supervisor server = Supervisor.builder().http(TestApps.Hello.class).sharing(PortSharing.REUSE_PORT)
                .model(WorkerModel.onDemand(2, Duration.ofMillis(500))).log(line -> { }).start()) {
            Conditions.await("no worker once idle", Duration.ofSeconds(60), () -> server.workers().isEmpty());
            HttpLoad.Result result = HttpLoad.start(server.port(), "/", 1, 3, true).await();
            assertThat(result.failed()).as(result.toString()).isZero();
            assertThat(result.ok()).isEqualTo(3);
        }
    }

    @Test
    void workerThatStopsAnsweringItsHeartbeat_isKilledAndReplaced() throws Exception {
        List<String> log = new CopyOnWriteArrayList<>();
        try (Supervisor server = Supervisor.builder().http(TestApps.Hello.class).sharing(PortSharing.SHARED_SOCKET)
                .model(WorkerModel.prefork(1)).workerTimeout(Duration.ofSeconds(1)).log(log::add).start()) {
            long pid = server.workers().getFirst().pid();
            Process stop = new ProcessBuilder("kill", "-STOP", Long.toString(pid)).start();
            assertThat(stop.waitFor()).isZero();
            Conditions.await("the hung worker replaced", Duration.ofSeconds(60), () -> server.workers().stream()
                    .anyMatch(w -> w.pid() != pid && w.state() == WorkerInfo.State.READY));
            WorkerInfo replacement = server.workers().getFirst();
            assertThat(replacement.lastRestart()).contains("heartbeat");
            Conditions.await("the hung JVM gone", Duration.ofSeconds(30), () -> !Conditions.alive(pid));
            assertThat(log).as("the kill logged with supervision's exit cause")
                    .anyMatch(l -> l.contains("(pid " + pid + ") exited: killed: did not answer its heartbeat")
                            && l.endsWith("[KILLED]"));
            HttpLoad.Result result = HttpLoad.start(server.port(), "/", 2, 20, true).await();
            assertThat(result.failed()).as(result.toString()).isZero();
        }
    }

    @Test
    void scale_addsAndRemovesWorkers() throws Exception {
        try (Supervisor server = Supervisor.builder().http(TestApps.Hello.class).sharing(PortSharing.REUSE_PORT)
                .model(WorkerModel.prefork(1)).log(line -> { }).start()) {
            assertThat(server.scale(+1)).isEqualTo(2);
            Conditions.await("two ready workers", Duration.ofSeconds(60), () -> server.workers().stream()
                    .filter(w -> w.state() == WorkerInfo.State.READY).count() == 2);
            assertThat(server.scale(-1)).isEqualTo(1);
            Conditions.await("one worker", Duration.ofSeconds(60), () -> server.workers().size() == 1);
            assertThat(server.scale(-5)).as("a prefork model keeps at least one").isEqualTo(1);
            HttpLoad.Result result = HttpLoad.start(server.port(), "/", 2, 20, true).await();
            assertThat(result.failed()).as(result.toString()).isZero();
        }
    }

    @Test
    void threadsPerWorker_limitsTheRequestsOneWorkerRunsAtOnce() throws Exception {
        try (Supervisor server = Supervisor.builder().http(TestApps.Hello.class).sharing(PortSharing.SHARED_SOCKET)
                .model(WorkerModel.prefork(1)).threadsPerWorker(1).log(line -> { }).start()) {
            HttpLoad.Result result = HttpLoad.start(server.port(), "/?sleep=20&max=1", 4, 40, true).await();
            assertThat(result.failed()).as(result.toString()).isZero();
        }
    }
}
