package io.multiproc4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs the {@code multiproc} command as a user would: a separate JVM ({@code java -cp ... Main ARGS}),
 * with this test JVM's class path (the CLI's classes and its runtime libraries), and collects its exit
 * code, standard output and standard error. The process is always ended.
 */
final class Cli {
    /**
     * @param exitCode the process's exit code
     * @param out      its standard output
     * @param err      its standard error
     */
    record Result(int exitCode, String out, String err) {
        /** @return the standard error's non-blank lines */
        List<String> errLines() {
            return err.lines().filter(l -> !l.isBlank()).toList();
        }

        /** Asserts an error that a user can read: one line, no stack trace. */
        void assertOneLineError() {
            assertThat(errLines()).as("stderr of a failed command: %s", err).hasSize(1);
            assertThat(err).doesNotContain("Exception in thread").doesNotContain("\tat ");
        }
    }

    private Cli() {}

    /**
     * @param timeout how long the command may run
     * @param args    the command line after {@code multiproc}
     * @return what it did
     * @throws IOException          when it cannot be started
     * @throws InterruptedException when interrupted
     */
    static Result run(Duration timeout, String... args) throws IOException, InterruptedException {
        return runWithPath(timeout, null, args);
    }

    /**
     * @param timeout how long the command may run
     * @param path    its PATH, or null to inherit this one
     * @param args    the command line after {@code multiproc}
     * @return what it did
     * @throws IOException          when it cannot be started
     * @throws InterruptedException when interrupted
     */
    static Result runWithPath(Duration timeout, String path, String... args)
            throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("--enable-native-access=ALL-UNNAMED");
        cmd.add("-Djava.awt.headless=true");
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(Main.class.getName());
        cmd.addAll(List.of(args));
        Path out = Files.createTempFile("multiproc-cli-out", ".txt");
        Path err = Files.createTempFile("multiproc-cli-err", ".txt");
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile());
        if (path != null) {
            pb.environment().put("PATH", path);
        }
        Process p = pb.start();
        try {
            p.getOutputStream().close();
            boolean done = p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
            assertThat(done).as("multiproc %s finished within %s; stderr so far: %s", String.join(" ", args),
                    timeout, Files.readString(err)).isTrue();
            return new Result(p.exitValue(), Files.readString(out), Files.readString(err));
        } finally {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }
}
