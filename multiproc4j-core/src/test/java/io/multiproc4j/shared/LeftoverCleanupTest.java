package io.multiproc4j.shared;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** A segment whose owner was SIGKILLed is removed by the next start, in another JVM. */
class LeftoverCleanupTest {
    @Test
    void segmentOfKilledOwner_isRemovedByTheNextStart() throws Exception {
        String name = "test-leftover-" + UUID.randomUUID();
        Path file = Path.of("/dev/shm", "mp4j-" + name);
        try (ChildJvm owner = ChildJvm.start("create-and-hang", name)) {
            owner.awaitLine("READY", Duration.ofSeconds(30));
            assertThat(file).exists();
            owner.kill();
            assertThat(file).as("SIGKILL gives the owner no chance to clean up").exists();
        }
        try (ChildJvm next = ChildJvm.start("create-one")) {
            next.awaitLine("DONE", Duration.ofSeconds(30));
            assertThat(next.awaitExit(Duration.ofSeconds(30))).isZero();
        }
        assertThat(file).as("the next JVM's first create removed the dead owner's segment").doesNotExist();
    }

    @Test
    void segmentOfLiveOwner_isKept() throws Exception {
        String name = "test-live-" + UUID.randomUUID();
        Path file = Path.of("/dev/shm", "mp4j-" + name);
        try (ChildJvm owner = ChildJvm.start("create-and-hang", name)) {
            owner.awaitLine("READY", Duration.ofSeconds(30));
            assertThat(SharedMemory.removeLeftovers()).doesNotContain(name);
            assertThat(file).exists();
            try (SharedMemory attached = SharedMemory.attach(name)) {
                assertThat(attached.isOwner()).isFalse();
            }
        } finally {
            // the owner was killed by close(): it is a leftover now, and ours to remove
            SharedMemory.removeLeftovers();
        }
        assertThat(file).doesNotExist();
    }
}
