package io.multiproc4j.manager;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import io.multiproc4j.Pool;
import io.multiproc4j.TaskFailedException;
import io.multiproc4j.manager.evil.Evil;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Deserialization allowlist, a killed manager, a killed owner, prompt close. */
@Timeout(120)
class ManagerSafetyTest {

    @Test
    void classOutsideTheAllowlist_isRefusedBeforeAnyOfItsCodeRuns(@TempDir Path markers) throws Exception {
        String property = "-D" + Evil.MARKER_DIR + "=" + markers;
        long refusingPid;
        try (Manager refusing = Manager.builder().allowPackages("io.multiproc4j.manager").jvmOptions(property).start()) {
            refusingPid = refusing.serverProcess().orElseThrow().pid();
            ConcurrentMap<String, Object> map = refusing.map("target");
            assertThatThrownBy(() -> map.put("k", new Evil()))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("refused to deserialize io.multiproc4j.manager.evil.Evil");
            assertThatThrownBy(() -> map.put("nested", List.of("fine", new Evil())))
                    .hasMessageContaining("io.multiproc4j.manager.evil.Evil");
            assertThat(map).isEmpty();
            // the server's stderr reaches serverOutput() through a pump thread: wait for the line
            Conditions.await(() -> refusing.serverOutput().stream().anyMatch(line -> line.contains("refused to deserialize")),
                    Duration.ofSeconds(60), () -> "the server's output to say it refused, was " + refusing.serverOutput());
        }
        // the control: a manager that allows the package does run Evil's code, so the markers work
        long allowingPid;
        try (Manager allowing = Manager.builder().allowPackages("io.multiproc4j.manager.evil").jvmOptions(property)
                .start()) {
            allowingPid = allowing.serverProcess().orElseThrow().pid();
            allowing.map("target").put("k", new Evil());
        }
        try (Stream<Path> files = Files.list(markers)) {
            List<String> names = files.map(p -> p.getFileName().toString()).toList();
            assertThat(names).contains("clinit-" + allowingPid, "readObject-" + allowingPid);
            assertThat(names).noneMatch(n -> n.endsWith("-" + refusingPid));
        }
    }

    @Test
    void managerKilled_blockedAndNewCallsFailFast_inThisJvmAndInWorkers() throws Exception {
        try (Manager manager = Manager.start(); Pool pool = Pool.processes(1)) {
            ConcurrentMap<String, Integer> map = manager.map("m");
            BlockingQueue<String> queue = manager.queue("q");
            map.put("a", 1);
            assertThat(pool.map(x -> map.get("a"), List.of(0))).containsExactly(1);
            ManagedEvent taking = manager.event("taking");
            var take = CompletableFuture.supplyAsync(() -> {
                taking.set();
                try {
                    return queue.take();
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            });
            assertThat(taking.await(30, TimeUnit.SECONDS)).isTrue();
            manager.serverProcess().orElseThrow().destroyForcibly();

            assertTimeoutPreemptively(Duration.ofSeconds(10), () -> {
                assertThatThrownBy(() -> take.get()).isInstanceOf(ExecutionException.class)
                        .cause().isInstanceOf(ManagerUnavailableException.class);
                assertThatThrownBy(() -> map.get("a")).isInstanceOf(ManagerUnavailableException.class);
                assertThatThrownBy(() -> pool.map(x -> map.get("a"), List.of(0)))
                        .isInstanceOf(TaskFailedException.class)
                        .cause().isInstanceOf(ManagerUnavailableException.class);
            });
        }
    }

    @Test
    void ownerKilled_managerExits() throws Exception {
        try (var owner = new ChildJvm("owner", null, null)) {
            String line = owner.awaitLine(l -> l.startsWith("SERVER "));
            ProcessHandle server = ProcessHandle.of(Long.parseLong(line.substring(7))).orElseThrow();
            try {
                owner.process.destroyForcibly();  // SIGKILL: the manager sees EOF on its stdin
                server.onExit().get(30, TimeUnit.SECONDS);
                assertThat(server.isAlive()).isFalse();
            } finally {
                server.destroyForcibly();
            }
        }
    }

    @Test
    void close_stopsTheManagerJvm_andRemovesItsSocket() {
        Manager manager = Manager.start();
        ProcessHandle server = manager.serverProcess().orElseThrow();
        Path socket = Path.of(manager.address().toString());
        var map = manager.map("x");
        try {
            assertThat(socket).exists();
            manager.close();
            assertThat(server.isAlive()).isFalse();
            assertThat(socket).doesNotExist();
            assertThatThrownBy(() -> map.size()).isInstanceOf(ManagerUnavailableException.class);
        } finally {
            server.destroyForcibly();
        }
    }
}
