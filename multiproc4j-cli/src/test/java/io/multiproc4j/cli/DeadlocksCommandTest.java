package io.multiproc4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** {@code multiproc deadlocks PID} against real JVMs. */
class DeadlocksCommandTest {
    private static final Duration T = Duration.ofSeconds(90);

    @Test
    void deadlockedJvm_namesTheThreadsAndLocks_exit3() throws Exception {
        Process program = startProgram("deadlock");
        try {
            assertThat(firstLine(program)).isEqualTo("DEADLOCKED");
            Cli.Result r = Cli.run(T, "deadlocks", Long.toString(program.pid()));
            assertThat(r.exitCode()).as(r.err()).isEqualTo(DeadlocksCommand.FOUND);
            assertThat(r.out()).contains("2 deadlocks")
                    .containsPattern("Thread \"alpha\" waits for a java.lang.Object held by thread \"beta\", at .*DeadlockedProgram")
                    .containsPattern("Thread \"beta\" waits for a java.lang.Object held by thread \"alpha\"")
                    .containsPattern("Thread \"gamma\" waits for a java.util.concurrent.locks.ReentrantLock\\$NonfairSync"
                            + " held by thread \"delta\"");
        } finally {
            program.destroyForcibly();
        }
    }

    @Test
    void healthyJvm_saysNoDeadlock_exit0() throws Exception {
        Process program = startProgram("healthy");
        try {
            assertThat(firstLine(program)).isEqualTo("READY");
            Cli.Result r = Cli.run(T, "deadlocks", Long.toString(program.pid()));
            assertThat(r.exitCode()).as(r.err()).isZero();
            assertThat(r.out()).contains("No deadlocked threads in JVM " + program.pid());
        } finally {
            program.destroyForcibly();
        }
    }

    @Test
    void unknownPid_isOneLineError_nonZero() throws Exception {
        Process gone = new ProcessBuilder("true").start();
        assertThat(gone.waitFor(30, TimeUnit.SECONDS)).isTrue();
        Cli.Result r = Cli.run(T, "deadlocks", Long.toString(gone.pid()));
        assertThat(r.exitCode()).isEqualTo(Main.FAILED);
        r.assertOneLineError();
        assertThat(r.err()).contains("no process with pid " + gone.pid());
    }

    @Test
    void notAJvm_isOneLineError_nonZero() throws Exception {
        Process sleeper = new ProcessBuilder("cat").start(); // waits on its stdin: alive, not a JVM
        try {
            Cli.Result r = Cli.run(T, "deadlocks", Long.toString(sleeper.pid()));
            assertThat(r.exitCode()).isEqualTo(Main.FAILED);
            r.assertOneLineError();
            assertThat(r.err()).contains("cannot inspect pid " + sleeper.pid());
        } finally {
            sleeper.destroyForcibly();
        }
    }

    @Test
    void badPid_isOneLineError_exit2() throws Exception {
        Cli.Result r = Cli.run(T, "deadlocks", "twelve");
        assertThat(r.exitCode()).isEqualTo(Main.BAD_ARGUMENTS);
        r.assertOneLineError();
    }

    private static Process startProgram(String mode) throws Exception {
        return new ProcessBuilder(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), DeadlockedProgram.class.getName(), mode))
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();
    }

    private static String firstLine(Process p) throws Exception {
        var reader = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        return CompletableFuture.supplyAsync(() -> {
            try {
                return reader.readLine();
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }).get(60, TimeUnit.SECONDS);
    }
}
