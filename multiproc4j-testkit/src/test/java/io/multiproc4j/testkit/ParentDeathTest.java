package io.multiproc4j.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Workers must not outlive their parent, however it dies. */
@Deadline(seconds = 60)
class ParentDeathTest {

    @Test
    void workersExitWithinTwoSeconds_whenTheirParentIsSigkilled() throws Exception {
        ownerDies(false);
    }

    @Test
    void workersExit_whenTheirParentExitsWithoutClosingThePool() throws Exception {
        ownerDies(true);
    }

    private static void ownerDies(boolean exitsByItself) throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process owner = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
                PoolOwnerMain.class.getName(), exitsByItself ? "exit" : "wait")
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        List<Long> workers;
        try {
            var reader = new BufferedReader(new InputStreamReader(owner.getInputStream(), StandardCharsets.UTF_8));
            String line;
            do {
                line = reader.readLine();
                assertThat(line).as("the owner's output before it printed its workers").isNotNull();
            } while (!line.startsWith("WORKERS "));
            String[] parts = line.split(" ");
            workers = List.of(Long.parseLong(parts[1]), Long.parseLong(parts[2]));
            if (!exitsByItself) {
                assertThat(workers).allMatch(Conditions::alive);
            }
        } finally {
            if (!exitsByItself) {
                owner.destroyForcibly(); // SIGKILL: no shutdown hook runs in the owner
            }
            if (!owner.waitFor(30, TimeUnit.SECONDS)) {
                owner.destroyForcibly();
            }
        }
        try {
            Conditions.await("the workers of a dead parent to exit", Duration.ofSeconds(2),
                    () -> workers.stream().noneMatch(Conditions::alive));
        } finally {
            workers.forEach(pid -> ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly));
        }
    }
}
