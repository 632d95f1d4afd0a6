package io.multiproc4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code multiproc bench --tiny} as a separate process: every row, side by side when python3 is there. */
class BenchCommandTest {

    @Test
    void bench_reportsEveryBenchmark_sideBySide(@TempDir Path dir) throws Exception {
        Cli.Result r = Cli.run(Duration.ofMinutes(3), "bench", "--tiny", "--report", dir.toString());
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.out()).contains("warm task round trip", "over 10,000 integers", "heavy map speed-up",
                "tiny tasks, chunk size 1", "creation to first result", "bare ForkJoinPool",
                "idle worker JVM resident size");
        String json = Files.readString(dir.resolve("results.json"));
        assertThat(json).contains("\"bench mode\": \"tiny\"", "\"Python\"");
        if (onPath("python3")) {
            assertThat(r.out()).containsPattern("Python 3\\.\\d+");
            assertThat(json).containsPattern("\"Python\": \"3\\.\\d+");
        } else {
            assertThat(r.out()).contains("python3 is not on the PATH");
        }
    }

    @Test
    void bench_withoutPython_runsJavaAndSaysWhyPythonWasSkipped(@TempDir Path dir) throws Exception {
        Path emptyPath = Files.createDirectory(dir.resolve("empty-path"));
        Cli.Result r = Cli.runWithPath(Duration.ofMinutes(3), emptyPath.toString(), "bench", "--tiny", "--report",
                dir.resolve("r").toString());
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.out()).contains("warm task round trip", "python3 is not on the PATH");
        assertThat(r.err()).contains("python3 is not on the PATH");
        assertThat(Files.readString(dir.resolve("r/results.json"))).contains("python3 is not on the PATH");
    }

    @Test
    void bench_badCompare_isOneLineError_exit2() throws Exception {
        Cli.Result r = Cli.run(Duration.ofSeconds(60), "bench", "--compare", "ruby");
        assertThat(r.exitCode()).isEqualTo(Main.BAD_ARGUMENTS);
        r.assertOneLineError();
        assertThat(r.err()).contains("--compare");
    }

    private static boolean onPath(String name) {
        for (String d : System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator)) {
            if (Files.isExecutable(Path.of(d, name))) {
                return true;
            }
        }
        return false;
    }
}
