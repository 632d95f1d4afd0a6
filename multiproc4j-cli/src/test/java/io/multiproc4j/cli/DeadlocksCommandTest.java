package io.multiproc4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import io.multiproc4j.sync.ProcessLock;
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
    void twoProcessesTakingProcessLocksInOppositeOrder_cycleAcrossProcessesIsNamed_exit3() throws Exception {
        try (ProcessLock a = ProcessLock.create(); ProcessLock b = ProcessLock.create()) {
            Process left = startProgram("process-locks", a.name(), b.name());
            Process right = startProgram("process-locks", b.name(), a.name());
            try {
                assertThat(firstLine(left)).isEqualTo("HOLDING");
                assertThat(firstLine(right)).isEqualTo("HOLDING");
                for (Process p : List.of(left, right)) {
                    p.getOutputStream().write("go\n".getBytes(StandardCharsets.UTF_8));
                    p.getOutputStream().flush();
                }
                // both now wait in lock(): poll the command until it sees the cycle (the waits start at once,
                // but the programs get there when the machine lets them)
                Cli.Result r = null;
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                while (System.nanoTime() < deadline) {
                    r = Cli.run(T, "deadlocks", Long.toString(left.pid()));
                    if (r.exitCode() == DeadlocksCommand.FOUND) {
                        break;
                    }
                }
                assertThat(r).isNotNull();
                assertThat(r.exitCode()).as(r.out() + r.err()).isEqualTo(DeadlocksCommand.FOUND);
                assertThat(r.out()).contains("No deadlocked threads inside JVM " + left.pid())
                        .contains("Deadlock across 2 processes")
                        .containsPattern("thread \\d+ \"main\" of process " + left.pid() + " \\(java\\) holds lock \""
                                + a.name() + "\" and waits for lock \"" + b.name() + "\", held by thread \\d+ \"main\" of process "
                                + right.pid())
                        .containsPattern("thread \\d+ \"main\" of process " + right.pid() + " \\(java\\) holds lock \""
                                + b.name() + "\" and waits for lock \"" + a.name() + "\"");
                Cli.Result all = Cli.run(T, "deadlocks");
                assertThat(all.exitCode()).isEqualTo(DeadlocksCommand.FOUND);
                assertThat(all.out()).contains("across processes").contains("process " + right.pid());
            } finally {
                left.destroyForcibly();
                right.destroyForcibly();
                left.waitFor(30, TimeUnit.SECONDS);
                right.waitFor(30, TimeUnit.SECONDS);
            }
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
            assertThat(r.out()).contains("no deadlock across processes involving it");
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

    private static Process startProgram(String... args) throws Exception {
        List<String> cmd = new java.util.ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java")
                .toString(), "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"),
                DeadlockedProgram.class.getName()));
        cmd.addAll(List.of(args));
        return new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.DISCARD).start();
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
