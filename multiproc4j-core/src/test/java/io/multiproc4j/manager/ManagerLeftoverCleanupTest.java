package io.multiproc4j.manager;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.UnixDomainSocketAddress;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A manager's socket directory outlives an owner that was SIGKILLed together with its manager;
 * the next manager to start removes it, and leaves a live owner's directory alone.
 */
@Timeout(180)
class ManagerLeftoverCleanupTest {
    private static List<Path> directoriesOf(long ownerPid) throws Exception {
        List<Path> found = new ArrayList<>();
        Path tmp = Path.of(System.getProperty("java.io.tmpdir"));
        try (DirectoryStream<Path> dirs = Files.newDirectoryStream(tmp, "mp4j-manager-" + ownerPid + "-*")) {
            dirs.forEach(found::add);
        }
        return found;
    }

    @Test
    void ownerKilledWithItsManager_leavesADirectory_thatTheNextStartRemoves() throws Exception {
        List<Path> leftovers;
        long managerPid;
        try (var owner = new ChildJvm("owner", null, null)) {
            managerPid = Long.parseLong(owner.awaitLine(l -> l.startsWith("SERVER ")).substring(7));
            leftovers = directoriesOf(owner.process.pid());
            assertThat(leftovers).hasSize(1);
            assertThat(leftovers.getFirst().resolve("s")).exists();
            // the manager first, so it cannot see its owner's EOF and tidy up: both die at once
            ProcessHandle manager = ProcessHandle.of(managerPid).orElseThrow();
            manager.destroyForcibly();
            manager.onExit().get(30, java.util.concurrent.TimeUnit.SECONDS);
        }
        Conditions.await(() -> ProcessHandle.of(managerPid).isEmpty(), Duration.ofSeconds(30), () -> "the manager's exit");
        assertThat(leftovers.getFirst()).as("what the killed pair left behind").exists();

        try (Manager next = Manager.start()) {
            assertThat(leftovers.getFirst()).as("removed by the next start").doesNotExist();
            Path mine = ((UnixDomainSocketAddress) next.address()).getPath().getParent();
            assertThat(mine.getFileName().toString()).startsWith("mp4j-manager-" + ProcessHandle.current().pid() + "-");
            try (Manager another = Manager.start()) {
                // a live owner's directory survives the next start's sweep
                assertThat(mine).exists();
                assertThat(next.<String, Integer>map("m").put("k", 1)).isNull();
                assertThat(another.<String, Integer>map("m").get("k")).isNull();
            }
        }
    }
}
