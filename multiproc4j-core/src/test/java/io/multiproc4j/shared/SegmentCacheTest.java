package io.multiproc4j.shared;

import static org.assertj.core.api.Assertions.assertThat;

import io.multiproc4j.internal.shm.Segment;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** The per-JVM mapping cache that deserialized handles use: one mapping, dropped when unused. */
class SegmentCacheTest {
    private static long mappingsOf(String name) {
        try {
            return Files.readAllLines(Path.of("/proc/self/maps")).stream()
                    .filter(l -> l.endsWith("mp4j-" + name)).count();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Test
    void cachedMapping_isSharedWhileUsed_andUnmappedOnceUnreachable() throws Exception {
        String name = "test-cache-" + UUID.randomUUID();
        try (ChildJvm owner = ChildJvm.start("create-and-hang", name)) {
            owner.awaitLine("READY", Duration.ofSeconds(30));
            Segment probe = Segment.attach(name);
            long nonce = probe.nonce();
            probe.close();
            Segment first = Segment.attachCached(name, nonce);
            Segment second = Segment.attachCached(name, nonce);
            assertThat(second).isSameAs(first);
            first.data().set(ValueLayout.JAVA_LONG, 0, 99L);
            assertThat(mappingsOf(name)).isEqualTo(1);

            first = null;
            second = null;
            Conditions.await("the GC unmapped the unused cached mapping", Duration.ofSeconds(20), () -> {
                System.gc();
                return mappingsOf(name) == 0;
            });
            Segment again = Segment.attachCached(name, nonce);
            assertThat(again.data().get(ValueLayout.JAVA_LONG, 0)).as("the memory itself lives on").isEqualTo(99L);
        } finally {
            SharedMemory.removeLeftovers();
        }
    }
}
