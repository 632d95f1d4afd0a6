package io.multiproc4j.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.multiproc4j.server.internal.HttpLoad;
import io.multiproc4j.testkit.Conditions;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class SharingModelsTest {
    @ParameterizedTest
    @EnumSource(PortSharing.class)
    void servesLoadOverEveryWorker_withNoFailedRequest(PortSharing sharing) throws Exception {
        List<String> log = new CopyOnWriteArrayList<>();
        try (Supervisor server = Supervisor.builder()
                .http(TestApps.Hello.class)
                .sharing(sharing)
                .model(WorkerModel.prefork(2))
                .log(log::add)
                .start()) {
            List<WorkerInfo> workers = server.workers();
            assertThat(workers).hasSize(2).allMatch(w -> w.state() == WorkerInfo.State.READY);
            // ?sleep keeps each request a little while, so both workers get connections even on a busy machine
            HttpLoad.Result result = HttpLoad.start(server.port(), "/?sleep=2", 8, 400, true).await();
            assertThat(result.failed()).as(result.toString()).isZero();
            assertThat(result.ok()).isEqualTo(400);
            assertThat(result.perWorker().keySet()).as(result.toString())
                    .containsExactlyInAnyOrderElementsOf(workers.stream().map(w -> Long.toString(w.pid())).toList());
            assertThat(log).anyMatch(l -> l.contains("started in"));
        }
    }

    @ParameterizedTest
    @EnumSource(value = PortSharing.class, names = {"REUSE_PORT", "SHARED_SOCKET"})
    void runsAnAppWithItsOwnAcceptLoop_andReloadsIt(PortSharing sharing) throws Exception {
        try (Supervisor server = Supervisor.builder()
                .app(TestApps.RawApp.class)
                .sharing(sharing)
                .model(WorkerModel.prefork(2))
                .log(line -> { })
                .start()) {
            List<Long> before = server.workers().stream().map(WorkerInfo::pid).toList();
            HttpLoad.Run load = HttpLoad.start(server.port(), "/", 4, 100_000, true);
            Conditions.await("requests before the reload", Duration.ofSeconds(60), () -> load.completed() >= 100);
            server.reload();
            long atReload = load.completed();
            Conditions.await("requests after the reload", Duration.ofSeconds(60), () -> load.completed() >= atReload + 100);
            HttpLoad.Result result = load.finish();
            assertThat(result.failed()).as(result.toString()).isZero();
            assertThat(server.workers()).extracting(WorkerInfo::pid).doesNotContainAnyElementsOf(before);
            Conditions.await("served counts reported", Duration.ofSeconds(30),
                    () -> server.workers().stream().mapToLong(WorkerInfo::requestsServed).sum() > 0);
        }
    }

    @org.junit.jupiter.api.Test
    void listeningSocket_isPassedOnlyToTheWorkerItIsFor() throws Exception {
        try (Supervisor server = Supervisor.builder().http(TestApps.Hello.class).sharing(PortSharing.SHARED_SOCKET)
                .model(WorkerModel.prefork(1)).log(line -> { }).start()) {
            String prefix = "multiproc4j-server-" + ProcessHandle.current().pid() + "-";
            java.nio.file.Path fds;
            try (var dirs = java.nio.file.Files.newDirectoryStream(java.nio.file.Path.of(System.getProperty("java.io.tmpdir")), prefix + "*")) {
                fds = dirs.iterator().next().resolve("fds.sock");
            }
            String name = server.workers().getFirst().name();
            // this JVM names a real worker, but the kernel says the caller is not that worker's process
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> io.multiproc4j.server.internal.FdServer.fetch(fds, name))
                    .hasMessageContaining("refused");
        }
    }
}
