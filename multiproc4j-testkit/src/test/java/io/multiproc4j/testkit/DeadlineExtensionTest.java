package io.multiproc4j.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The deadline extension's dumps of descendant JVMs are whole, however large. */
@Deadline(seconds = 90)
class DeadlineExtensionTest {

    @Test
    void threadDumpOfAChild_largerThanAPipe_isReadWhole() throws Exception {
        int threads = 600;
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        Process child = new ProcessBuilder(java.toString(), "-Xmx32m", "-cp", System.getProperty("java.class.path"),
                ManyThreadsMain.class.getName(), Integer.toString(threads))
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        try {
            var out = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8));
            assertThat(out.readLine()).as("the child's first line").isEqualTo("READY");
            String dump = DeadlineExtension.jcmdThreadPrint(Path.of(System.getProperty("java.home"), "bin", "jcmd"),
                    child.pid());
            assertThat(dump.length()).as("dump size").isGreaterThan(64 * 1024);
            for (int i = 0; i < threads; i++) {
                assertThat(dump).contains("\"parked-" + i + "\"");
            }
            // jcmd's Thread.print ends with the JNI reference count: the dump was not cut
            assertThat(dump).contains("JNI global refs").doesNotContain("did not finish");
        } finally {
            child.destroyForcibly();
            child.waitFor(30, TimeUnit.SECONDS);
        }
    }
}
