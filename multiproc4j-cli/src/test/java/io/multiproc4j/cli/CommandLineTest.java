package io.multiproc4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.multiproc4j.diagnostics.Amdahl;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The quick commands run as a separate process: exit codes, output, one-line errors. */
class CommandLineTest {
    private static final Duration T = Duration.ofSeconds(60);

    @Test
    void help_listsEveryCommand() throws Exception {
        Cli.Result r = Cli.run(T, "--help");
        assertThat(r.exitCode()).isZero();
        assertThat(r.out()).contains("tour", "bench", "topology", "amdahl", "deadlocks");
    }

    @ParameterizedTest
    @ValueSource(strings = {"tour", "bench", "topology", "amdahl", "deadlocks"})
    void eachCommand_hasHelp(String command) throws Exception {
        Cli.Result r = Cli.run(T, command, "--help");
        assertThat(r.exitCode()).isZero();
        assertThat(r.out()).contains("Usage: multiproc " + command);
    }

    @Test
    void unknownCommand_isOneLineError_exit2() throws Exception {
        Cli.Result r = Cli.run(T, "frobnicate");
        assertThat(r.exitCode()).isEqualTo(Main.BAD_ARGUMENTS);
        r.assertOneLineError();
        assertThat(r.err()).contains("frobnicate");
    }

    @Test
    void topology_reportsTheProcessorsThisJvmSees() throws Exception {
        Cli.Result r = Cli.run(T, "topology");
        assertThat(r.exitCode()).isZero();
        assertThat(r.out()).contains("physical cores", "SMT", "suggested pools")
                .containsPattern("JVM may use\\s+" + Runtime.getRuntime().availableProcessors() + " processors");
    }

    @Test
    void amdahl_printsThePredictedSpeedups() throws Exception {
        Cli.Result r = Cli.run(T, "amdahl", "--parallel", "0.95", "--cores", "1..64");
        assertThat(r.exitCode()).isZero();
        // 1 / (0.05 + 0.95 / 64) = 15.42; the limit is 20x
        assertThat(r.out()).containsPattern("\\n\\s+64\\s+15\\.4\\s").contains("20.0x");
        assertThat(r.out()).containsPattern("\\n\\s+32\\s+");
    }

    @ParameterizedTest
    @ValueSource(strings = {"0", "0..8", "8..2", "x"})
    void amdahl_badCores_isOneLineError_exit2(String cores) throws Exception {
        Cli.Result r = Cli.run(T, "amdahl", "--parallel", "0.9", "--cores", cores);
        assertThat(r.exitCode()).isEqualTo(Main.BAD_ARGUMENTS);
        r.assertOneLineError();
        assertThat(r.err()).contains("--cores");
    }

    @Test
    void amdahl_parallelOutOfRange_isOneLineError_exit2() throws Exception {
        Cli.Result r = Cli.run(T, "amdahl", "--parallel", "1.5");
        assertThat(r.exitCode()).isEqualTo(Main.BAD_ARGUMENTS);
        r.assertOneLineError();
        assertThat(r.err()).contains("--parallel must be between 0 and 1");
    }

    @Test
    void amdahl_withoutParallelOrMeasure_isOneLineError_exit2() throws Exception {
        Cli.Result r = Cli.run(T, "amdahl", "--cores", "1..8");
        assertThat(r.exitCode()).isEqualTo(Main.BAD_ARGUMENTS);
        r.assertOneLineError();
        assertThat(r.err()).contains("--parallel").contains("--measure");
    }

    @Test
    void amdahl_measure_readsTimings_andFitsP(@TempDir Path dir) throws Exception {
        Path timings = dir.resolve("t.txt");
        Files.writeString(timings, "# workers seconds\n1 10\n2 5.5\n4 3.25\n");
        Cli.Result r = Cli.run(T, "amdahl", "--measure", timings.toString(), "--cores", "1,2,4,8",
                "--report", dir.resolve("r").toString());
        assertThat(r.exitCode()).as(r.err()).isZero();
        double e2 = Amdahl.karpFlatt(10 / 5.5, 2);
        double e4 = Amdahl.karpFlatt(10 / 3.25, 4);
        String fitted = String.format(Locale.ROOT, "P = %.3f", 1 - (e2 + e4) / 2);
        assertThat(r.out()).contains(fitted).contains(String.format(Locale.ROOT, "%.3f", e2));
        assertThat(dir.resolve("r/report.html")).exists();
        assertThat(Files.readString(dir.resolve("r/results.json"))).contains("\"amdahl\"");
    }

    @Test
    void amdahl_measure_missingFile_isOneLineError(@TempDir Path dir) throws Exception {
        Cli.Result r = Cli.run(T, "amdahl", "--measure", dir.resolve("nope.txt").toString());
        assertThat(r.exitCode()).isEqualTo(Main.FAILED);
        r.assertOneLineError();
        assertThat(r.err()).contains("no such file");
    }

    @Test
    void tour_unknownExperiment_isOneLineError_exit2() throws Exception {
        Cli.Result r = Cli.run(T, "tour", "--only", "bogus");
        assertThat(r.exitCode()).isEqualTo(Main.BAD_ARGUMENTS);
        r.assertOneLineError();
        assertThat(r.err()).contains("bogus", "vector-light");
    }
}
