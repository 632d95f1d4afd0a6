package io.multiproc4j.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.multiproc4j.cli.tour.Experiment;
import io.multiproc4j.cli.tour.Tour;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code multiproc tour --tiny} run once as a separate process; its output, results.json and
 * report.html are checked, the last in a real headless Chromium when one is installed.
 */
class TourCommandTest {
    /** Kept after the build, as test artifacts: the report and the browser's screenshot. */
    private static final Path ARTIFACTS = Path.of("target", "test-artifacts", "tour");
    private static Cli.Result tour;

    @BeforeAll
    static void runTourOnce() throws Exception {
        Files.createDirectories(ARTIFACTS);
        tour = Cli.run(Duration.ofMinutes(3), "tour", "--tiny", "--report", ARTIFACTS.toString());
    }

    @Test
    void tour_printsEveryExperimentWithItsReading() {
        assertThat(tour.exitCode()).as(tour.err()).isZero();
        assertThat(tour.out()).contains("x + 1 over 20,000 integers", "heavy(x)", "Chunk size", "Amdahl's law",
                "Oversubscription", "Hyper-threading", "Shared counter", "Queue vs pipe");
        assertThat(tour.out()).contains("updates were lost", "atomic incrementAndGet");
        assertThat(tour.out()).contains("sequential loop", "Pool.threads", "Pool.processes", "Karp-Flatt");
        // every table is followed by a sentence (one per section, ending in a full stop)
        assertThat(tour.out().split("== ")).hasSize(Tour.experiments().size() + 1);
    }

    @Test
    void tour_progressGoesToStderr_tablesToStdout() {
        assertThat(tour.err()).contains("100%");
        assertThat(tour.out()).doesNotContain("100%");
    }

    @Test
    void tour_writesResultsJson_withEverySection() throws Exception {
        String json = Files.readString(ARTIFACTS.resolve("results.json"));
        for (Experiment e : Tour.experiments()) {
            assertThat(json).contains("\"id\": \"" + e.id() + "\"");
        }
        assertThat(json).contains("\"usable processors (nproc)\": " + Runtime.getRuntime().availableProcessors());
        // the measured times are numbers, not text
        assertThat(json).containsPattern("\\[\"sequential loop\", 1, [0-9.]+, 1\\]");
    }

    @Test
    void report_isAValidPageWithCharts() throws Exception {
        String html = Files.readString(ARTIFACTS.resolve("report.html"));
        long charts = Pattern.compile("<img class=\"chart\"").matcher(html).results().count();
        assertThat(charts).isGreaterThanOrEqualTo(5);
        assertThat(html).startsWith("<!DOCTYPE html>").contains("data:image/png;base64,iVBORw0KGgo");
    }

    @Test
    void report_loadsInHeadlessChromium_withoutConsoleErrors_andShowsItsCharts() throws Exception {
        Path chromium = Chromium.find();
        assumeTrue(chromium != null, "no chromium on the PATH: run multiproc4j-cli/src/test/setup-chromium.sh"
                + " (apt-get install chromium) to check the report in a real browser");
        Path report = ARTIFACTS.resolve("report.html").toAbsolutePath();
        long expectedCharts = Pattern.compile("<img class=\"chart\"").matcher(Files.readString(report)).results().count();

        Browser dom = browse(chromium, "--dump-dom", report.toUri().toString());
        assertThat(dom.exitCode).as(dom.log).isZero();
        List<String> console = dom.log.lines().filter(l -> l.contains(":CONSOLE")).toList();
        assertThat(console).as("console messages of the report page").isEmpty();
        Matcher loaded = Pattern.compile("data-charts-loaded=\"(\\d+)\"").matcher(dom.out);
        assertThat(loaded.find()).as("the page's load handler ran").isTrue();
        assertThat(Long.parseLong(loaded.group(1))).as("charts decoded by the browser").isEqualTo(expectedCharts);

        Path screenshot = ARTIFACTS.resolve("report-screenshot.png").toAbsolutePath();
        Files.deleteIfExists(screenshot);
        Browser shot = browse(chromium, "--screenshot=" + screenshot, "--window-size=1280,3000",
                "--hide-scrollbars", report.toUri().toString());
        assertThat(shot.exitCode).as(shot.log).isZero();
        byte[] png = Files.readAllBytes(screenshot);
        assertThat(png.length).isGreaterThan(10_000);
        assertThat(new String(png, 1, 3, java.nio.charset.StandardCharsets.US_ASCII)).isEqualTo("PNG");
    }

    private record Browser(int exitCode, String out, String log) {}

    private static Browser browse(Path chromium, String... args) throws Exception {
        Path profile = Files.createTempDirectory("multiproc-chromium");
        Path out = Files.createTempFile("chromium-out", ".txt");
        Path log = Files.createTempFile("chromium-log", ".txt");
        List<String> cmd = new ArrayList<>(List.of(chromium.toString(), "--headless", "--no-sandbox", "--disable-gpu",
                "--no-first-run", "--user-data-dir=" + profile, "--enable-logging=stderr", "--v=0"));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(log.toFile()).start();
        try {
            assertThat(p.waitFor(90, TimeUnit.SECONDS)).as("chromium finished").isTrue();
            return new Browser(p.exitValue(), Files.readString(out), Files.readString(log));
        } finally {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
            Files.deleteIfExists(out);
            Files.deleteIfExists(log);
        }
    }
}
