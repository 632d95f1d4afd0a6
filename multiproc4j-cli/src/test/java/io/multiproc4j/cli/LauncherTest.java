package io.multiproc4j.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code bin/multiproc} in a fresh copy of the project (every file git tracks or would track, no build
 * output): the first call builds and runs, the second runs without building, and a changed source
 * builds again. Real Maven builds: the slowest test of the module (about a minute on 2 cores).
 */
class LauncherTest {

    @Test
    void freshCopy_buildsOnFirstUse_notTwice_andAgainAfterAChange(@TempDir Path copy) throws Exception {
        Path root = Path.of("").toAbsolutePath().getParent();
        assumeTrue(root != null && Files.isExecutable(root.resolve("bin/multiproc")),
                "not run from inside the multiproc4j checkout");
        List<String> files = projectFiles(root);
        assumeTrue(!files.isEmpty(), "git is not available to list the project's files");
        for (String f : files) {
            Path from = root.resolve(f);
            if (Files.isRegularFile(from)) {
                Path to = copy.resolve(f);
                Files.createDirectories(to.getParent());
                Files.copy(from, to, StandardCopyOption.COPY_ATTRIBUTES);
            }
        }

        Run first = launch(copy, "topology");
        assertThat(first.exitCode).as(first.err).isZero();
        assertThat(first.err).contains("multiproc: building");
        assertThat(first.out).contains("physical cores");

        Run second = launch(copy, "amdahl", "--parallel", "0.5", "--cores", "2");
        assertThat(second.exitCode).as(second.err).isZero();
        assertThat(second.err).as("nothing changed: no build").doesNotContain("building");
        assertThat(second.out).contains("1.33");

        Path source = copy.resolve("multiproc4j-cli/src/main/java/io/multiproc4j/cli/TopologyCommand.java");
        Files.setLastModifiedTime(source, FileTime.from(Instant.now().plusSeconds(2)));
        Run third = launch(copy, "topology");
        assertThat(third.exitCode).as(third.err).isZero();
        assertThat(third.err).as("a source changed: built again").contains("multiproc: building");
    }

    private record Run(int exitCode, String out, String err) {}

    private static Run launch(Path dir, String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add(dir.resolve("bin/multiproc").toString());
        cmd.addAll(List.of(args));
        Path out = Files.createTempFile("launcher-out", ".txt");
        Path err = Files.createTempFile("launcher-err", ".txt");
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(dir.toFile())
                .redirectOutput(out.toFile()).redirectError(err.toFile());
        pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
        Process p = pb.start();
        try {
            p.getOutputStream().close();
            assertThat(p.waitFor(5, TimeUnit.MINUTES)).as("bin/multiproc %s finished; stderr: %s",
                    String.join(" ", args), Files.readString(err)).isTrue();
            return new Run(p.exitValue(), Files.readString(out), Files.readString(err));
        } finally {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }

    /** @return the paths git tracks or would track (not ignored) under {@code root}, or empty without git */
    private static List<String> projectFiles(Path root) throws InterruptedException {
        try {
            Process git = new ProcessBuilder("git", "ls-files", "-z", "--cached", "--others", "--exclude-standard")
                    .directory(root.toFile()).redirectError(ProcessBuilder.Redirect.DISCARD).start();
            try {
                git.getOutputStream().close();
                String listing = new String(git.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                if (!git.waitFor(60, TimeUnit.SECONDS) || git.exitValue() != 0) {
                    return List.of();
                }
                return List.of(listing.split("\0")).stream().filter(s -> !s.isEmpty()).toList();
            } finally {
                git.destroyForcibly();
            }
        } catch (IOException e) {
            return List.of();
        }
    }
}
