package io.multiproc4j.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.multiproc4j.server.internal.HttpLoad;
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
}
