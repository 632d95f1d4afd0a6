package io.multiproc4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.multiproc4j.server.internal.HttpLoad;
import io.multiproc4j.testkit.Conditions;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class ServeCommandTest {
    private static final Duration LONG = Duration.ofSeconds(90);

    @Test
    void serve_reloadsOnHup_scalesOnTtinAndTtou_andStopsGracefullyOnTerm() throws Exception {
        Path dir = Files.createTempDirectory("multiproc-serve-test");
        Path err = dir.resolve("err.txt");
        Path pidFile = dir.resolve("serve.pid");
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"), Main.class.getName(),
                "serve", "--workers", "2", "--port", "0", "--shared-socket", "--pid", pidFile.toString(),
                ServeTestHandler.class.getName()));
        Process serve = new ProcessBuilder(cmd).redirectErrorStream(false).redirectError(err.toFile())
                .redirectOutput(dir.resolve("out.txt").toFile()).start();
        try {
            Conditions.await("the listening line", LONG, () -> log(err).contains("listening on 127.0.0.1:"));
            Matcher m = Pattern.compile("listening on 127\\.0\\.0\\.1:(\\d+)").matcher(log(err));
            assertThat(m.find()).isTrue();
            int port = Integer.parseInt(m.group(1));
            assertThat(log(err).lines().filter(l -> l.contains(" started in ")).count()).isEqualTo(2);
            assertThat(HttpLoad.start(port, "/", 2, 20, true).await().failed()).isZero();

            Cli.Result status = Cli.run(LONG, "serve", "--status", Integer.toString(port));
            assertThat(status.exitCode()).as(status.err()).isZero();
            assertThat(status.out().lines().filter(l -> l.contains(" READY "))).hasSize(2);

            signal(serve, "HUP");
            Conditions.await("the reload", LONG, () -> log(err).contains("reload done in"));

            signal(serve, "TTIN");
            Conditions.await("a third worker", LONG, () -> readyWorkers(pidFile) == 3);
            signal(serve, "TTOU");
            Conditions.await("back to two workers", LONG, () -> log(err).contains("exited: stopped (scaled down to 2)"));
            assertThat(HttpLoad.start(port, "/", 2, 20, true).await().failed()).isZero();

            signal(serve, "TERM");
            assertThat(serve.waitFor(LONG.toSeconds(), TimeUnit.SECONDS)).as(log(err)).isTrue();
            assertThat(serve.exitValue()).as(log(err)).isZero();
            assertThat(log(err)).contains("stopping gracefully").contains("multiproc serve: stopped");
            assertThat(Files.exists(pidFile)).as("pid file removed").isFalse();
            assertThat(Files.exists(ServeCommand.statusFile(port))).as("status file removed").isFalse();
        } finally {
            serve.descendants().forEach(ProcessHandle::destroyForcibly);
            serve.destroyForcibly();
            serve.waitFor(30, TimeUnit.SECONDS);
        }
    }

    @Test
    void serve_withAMissingClass_failsWithOneLine() throws Exception {
        Cli.Result r = Cli.run(LONG, "serve", "--workers", "1", "--port", "0", "com.example.Missing");
        assertThat(r.exitCode()).isEqualTo(Main.FAILED);
        r.assertOneLineError();
        assertThat(r.err()).contains("com.example.Missing not found");
    }

    @Test
    void status_ofAPortWithNoServer_saysSo() throws Exception {
        Cli.Result r = Cli.run(LONG, "serve", "--status", "1");
        assertThat(r.exitCode()).isEqualTo(Main.FAILED);
        r.assertOneLineError();
        assertThat(r.err()).contains("no multiproc serve is running on port 1");
    }

    private static long readyWorkers(Path pidFile) {
        try {
            Cli.Result r = Cli.run(LONG, "serve", "--status", pidFile.toString());
            return r.exitCode() != 0 ? -1 : r.out().lines().filter(l -> l.contains(" READY ")).count();
        } catch (IOException | InterruptedException e) {
            return -1;
        }
    }

    private static String log(Path err) {
        try {
            return Files.readString(err);
        } catch (IOException e) {
            return "";
        }
    }

    private static void signal(Process p, String signal) throws IOException, InterruptedException {
        Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(p.pid())).inheritIO().start();
        assertThat(kill.waitFor()).isZero();
    }
}
