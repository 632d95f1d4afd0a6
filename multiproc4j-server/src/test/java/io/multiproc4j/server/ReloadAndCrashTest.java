package io.multiproc4j.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.multiproc4j.server.internal.HttpLoad;
import io.multiproc4j.testkit.Conditions;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class ReloadAndCrashTest {
    private static final int CLIENTS = 6;

    @ParameterizedTest
    @EnumSource(PortSharing.class)
    void rollingReloadUnderLoad_failsNoRequest_andReplacesEveryWorker(PortSharing sharing) throws Exception {
        List<String> log = new CopyOnWriteArrayList<>();
        try (Supervisor server = Supervisor.builder().http(TestApps.Hello.class).sharing(sharing)
                .model(WorkerModel.prefork(2)).log(log::add).start()) {
            List<Long> before = server.workers().stream().map(WorkerInfo::pid).toList();
            HttpLoad.Run load = HttpLoad.start(server.port(), "/?sleep=2", CLIENTS, 1_000_000, true);
            try {
                Conditions.await("requests before the reload", Duration.ofSeconds(60), () -> load.completed() >= 200);
                server.reload();
                long atReload = load.completed();
                Conditions.await("requests after the reload", Duration.ofSeconds(60), () -> load.completed() >= atReload + 200);
            } finally {
                load.stop();
            }
            HttpLoad.Result result = load.await();
            List<WorkerInfo> after = server.workers();
            assertThat(result.failed()).as(result.toString()).isZero();
            assertThat(after).hasSize(2).extracting(WorkerInfo::pid).doesNotContainAnyElementsOf(before);
            assertThat(after).allMatch(w -> "reload".equals(w.lastRestart()) && w.restarts() == 1);
            assertThat(result.perWorker().keySet()).as("the new workers served")
                    .containsAll(after.stream().map(w -> Long.toString(w.pid())).toList());
            assertThat(log).anyMatch(l -> l.startsWith("reload done in"));
        }
    }

    @ParameterizedTest
    @EnumSource(PortSharing.class)
    void workerKilledUnderLoad_isReplaced_andOnlyRequestsInFlightOnItFail(PortSharing sharing) throws Exception {
        try (Supervisor server = Supervisor.builder().http(TestApps.Hello.class).sharing(sharing)
                .model(WorkerModel.prefork(2)).log(line -> { }).start()) {
            WorkerInfo victim = server.workers().getFirst();
            HttpLoad.Run load = HttpLoad.start(server.port(), "/?sleep=20", CLIENTS, 1_000_000, true);
            try {
                Conditions.await("requests before the kill", Duration.ofSeconds(60), () -> load.completed() >= 50);
                ProcessHandle.of(victim.pid()).orElseThrow().destroyForcibly();
                Conditions.await("a replacement in the victim's slot", Duration.ofSeconds(60), () -> server.workers().stream()
                        .anyMatch(w -> w.slot() == victim.slot() && w.pid() != victim.pid() && w.state() == WorkerInfo.State.READY));
                long atReplace = load.completed();
                Conditions.await("requests after the replacement", Duration.ofSeconds(60),
                        () -> load.completed() >= atReplace + 100);
            } finally {
                load.stop();
            }
            HttpLoad.Result result = load.await();
            // At most one request per client can be in flight anywhere, so on the victim at most CLIENTS.
            assertThat(result.failed()).as(result.toString()).isLessThanOrEqualTo(CLIENTS);
            if (sharing == PortSharing.ACCEPTOR) {
                assertThat(result.failures()).allMatch(f -> f.startsWith("status 503") && f.contains("pid " + victim.pid()));
            }
            WorkerInfo replacement = server.workers().stream().filter(w -> w.slot() == victim.slot()).findFirst().orElseThrow();
            assertThat(replacement.restarts()).isEqualTo(victim.restarts() + 1);
            assertThat(replacement.lastRestart()).contains("SIGKILL");
            System.out.println(sharing + " kill: " + result.failed() + " failed of " + (result.ok() + result.failed()));
        }
    }
}
