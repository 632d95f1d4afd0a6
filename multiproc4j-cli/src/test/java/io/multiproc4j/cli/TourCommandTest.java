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
 * {@code multiproc tour --tiny --compare-python} run once as a separate process, shared by the class; its
 * output, results.json and report.html are checked, the last in a real headless Chromium when one is
 * installed. Python's figures are checked when python3 is on the PATH.
 */
class TourCommandTest {
    /** Kept after the build, as test artifacts: the report and the browser's screenshot. */
    private static final Path ARTIFACTS = Path.of("target", "test-artifacts", "tour");
    private static Cli.Result tour;

    @BeforeAll
    static void runTourOnce() throws Exception {
        Files.createDirectories(ARTIFACTS);
        tour = Cli.run(Duration.ofMinutes(6), "tour", "--tiny", "--compare-python", "--report", ARTIFACTS.toString());
    }

    private static boolean pythonOnPath() {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator)) {
            if (Files.isExecutable(Path.of(dir, "python3"))) {
                return true;
            }
        }
        return false;
    }

    @Test
    void tour_printsEveryExperimentWithItsReading() {
        assertThat(tour.exitCode()).as(tour.out() + tour.err()).isZero();
        assertThat(tour.out()).contains("x + 1 over 20,000 integers", "heavy(x)", "Chunk size", "Amdahl's law",
                "Oversubscription", "Hyper-threading", "Shared counter", "Queue vs pipe", "I/O-bound work",
                "map vs imap vs imapUnordered", "Managers vs shared memory", "The pipe trap",
                "A deadlock across two processes", "Stopping work", "Parallel and asynchronous together",
                "What to use on this machine");
        assertThat(tour.out()).contains("atomic incrementAndGet", "loops overlapped");
        assertThat(tour.out()).contains("sequential loop", "Pool.threads", "Pool.processes", "Karp-Flatt");
        assertThat(tour.out()).doesNotContain("(failed)");
        // every section, and each says how to measure it again
        assertThat(tour.out().split("== ")).hasSize(Tour.experiments().size() + 1);
        for (Experiment e : Tour.experiments()) {
            assertThat(tour.out()).contains("(again: bin/multiproc tour --only " + e.id() + " --tiny --compare-python)");
        }
    }

    @Test
    void sharedCounter_reportsOverlap_andNeverExplainsALossThatDidNotHappen() {
        Matcher lost = Pattern.compile("unsynchronized get/set\\s+([0-9,]+)\\s+([0-9,]+)\\s+([0-9,]+)").matcher(tour.out());
        assertThat(lost.find()).as(tour.out()).isTrue();
        long lostUpdates = Long.parseLong(lost.group(3).replace(",", ""));
        if (lostUpdates == 0) {
            assertThat(tour.out()).contains("no update was lost").doesNotContain("both wrote it plus one");
        } else {
            assertThat(tour.out()).contains("updates were lost").contains("both wrote it plus one");
        }
    }

    @Test
    void deadlockSection_showsTheCycleAcrossTwoProcesses() {
        String section = tour.out().substring(tour.out().indexOf("== A deadlock across two processes"));
        assertThat(section).contains("Deadlock across 2 processes").containsPattern("thread \\d+ of process \\d+");
    }

    @Test
    void clusterAndServer_ranOnTheRealModules_withTheirFigures() {
        String out = tour.out();
        assertThat(out).doesNotContain("(skipped)");
        assertThat(out).contains("== The heavy map on a cluster: 2,000 elements");
        String cluster = out.substring(out.indexOf("== The heavy map on a cluster: 2,000 elements"));
        cluster = cluster.substring(0, cluster.indexOf("(again:"));
        assertThat(cluster).containsPattern("ClusterPool\\.local\\(2\\), chunks of 125\\s+2\\s+[0-9.,]+\\s+[0-9.]+")
                .containsPattern("members start and join\\)\\s+2\\s+[0-9,]+")
                .contains("On two local cluster members the heavy map");
        int workers = Math.max(2, Runtime.getRuntime().availableProcessors());
        String serverTitle = "== A CPU-bound handler on 1 vs " + workers + " server workers";
        assertThat(out).contains(serverTitle);
        String server = out.substring(out.indexOf(serverTitle));
        server = server.substring(0, server.indexOf("(again:"));
        assertThat(server).containsPattern("\\n\\s+1\\s+40\\s+16\\s+[0-9.,]+\\s+[0-9.,]+\\s+1\\.00")
                .containsPattern("\\n\\s+" + workers + "\\s+40\\s+16\\s+[0-9.,]+\\s+[0-9.,]+\\s+([0-9.]+|-)")
                .containsPattern(workers + " workers served [^.]*requests/s")
                .doesNotContain("multiproc4j-server: "); // the supervisor's log lines stay out of the tour
    }

    @Test
    void comparePython_putsPythonsMeasuredFiguresBesideOurs() throws Exception {
        assumeTrue(pythonOnPath(), "python3 is not on the PATH");
        assertThat(tour.out()).doesNotContain("the Python side of this section failed");
        assertThat(tour.out()).contains("Python: multiprocessing.Pool(2).map", "Python: Value(lock=False)",
                "Python: multiprocessing.Queue", "Python: ThreadPoolExecutor", "Python: Pool.imap_unordered",
                "Python: Manager().Value proxy", "Python: multiprocessing.Pipe(duplex=False)");
        String json = Files.readString(ARTIFACTS.resolve("results.json"));
        assertThat(json).containsPattern("\"Python\": \"Python 3\\.[0-9]+");
    }

    @Test
    void comparePython_withoutPython3_saysHowToGetThem_andMeasuresOurs() throws Exception {
        Path emptyPath = Files.createTempDirectory("multiproc-no-python");
        try {
            Path report = Files.createTempDirectory("multiproc-tour-nopy");
            Cli.Result r = Cli.runWithPath(Duration.ofMinutes(3), emptyPath.toString(), "tour", "--tiny",
                    "--compare-python", "--only", "pipe-trap", "--report", report.toString());
            assertThat(r.exitCode()).as(r.err()).isZero();
            assertThat(r.out()).contains("python3 is not on the PATH").contains("apt-get install python3")
                    .contains("The pipe trap").doesNotContain("Python: multiprocessing");
            assertThat(r.out().split("== ")).hasSize(2);
        } finally {
            Files.deleteIfExists(emptyPath);
        }
    }

    @Test
    void list_namesEveryExperiment_andUnknownOnly_isABadArgument() throws Exception {
        Cli.Result list = Cli.run(Duration.ofMinutes(1), "tour", "--list");
        assertThat(list.exitCode()).isZero();
        for (Experiment e : Tour.experiments()) {
            assertThat(list.out()).contains(e.id()).contains(e.description());
        }
        Cli.Result bad = Cli.run(Duration.ofMinutes(1), "tour", "--only", "vector-light,nonsense");
        assertThat(bad.exitCode()).isEqualTo(Main.BAD_ARGUMENTS);
        bad.assertOneLineError();
        assertThat(bad.err()).contains("unknown experiment 'nonsense'").contains("pipe-trap");
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
        assertThat(json).contains("\"command\": \"bin/multiproc tour --only pipe-trap --tiny --compare-python\"")
                .contains("\"measured at\"").contains("\"JDK\"");
        // the measured times are numbers, not text
        assertThat(json).containsPattern("\\[\"sequential loop\", 1, [0-9.]+, 1\\]");
    }

    @Test
    void report_isAValidPageWithCharts() throws Exception {
        String html = Files.readString(ARTIFACTS.resolve("report.html"));
        long charts = Pattern.compile("<img class=\"chart\"").matcher(html).results().count();
        // a chart for every section that has figures: all but hyper-threading without SMT, the deadlock, stopping work
        assertThat(charts).isGreaterThanOrEqualTo(Tour.experiments().size() - 3);
        for (String id : List.of("cluster", "server")) {
            String section = html.substring(html.indexOf("<section id=\"" + id + "\">"));
            assertThat(section.substring(0, section.indexOf("</section>"))).as(id).contains("<img class=\"chart\"");
        }
        assertThat(html).startsWith("<!DOCTYPE html>").contains("data:image/png;base64,iVBORw0KGgo");
        assertThat(html).contains("Measure again: <code>bin/multiproc tour --only shared-counter --tiny")
                .contains("<th>Python</th>").contains("<th>JDK</th>").contains("<th>measured at</th>");
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
