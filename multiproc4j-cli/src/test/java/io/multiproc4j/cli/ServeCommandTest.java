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
import java.util.function.BooleanSupplier;
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
        // HUP and TERM with their default handling, however this build was started (under nohup the
        // JVM would inherit HUP ignored, and keep it so: see the test below)
        List<String> cmd = new ArrayList<>(List.of("env", "--default-signal=HUP,TERM",
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"), Main.class.getName(),
                "serve", "--workers", "2", "--port", "0", "--shared-socket", "--pid", pidFile.toString(),
                ServeTestHandler.class.getName()));
        Process serve = new ProcessBuilder(cmd).redirectErrorStream(false).redirectError(err.toFile())
                .redirectOutput(dir.resolve("out.txt").toFile()).start();
        try {
            awaitServe(serve, err, "the listening line", () -> log(err).contains("listening on 127.0.0.1:"));
            Matcher m = Pattern.compile("listening on 127\\.0\\.0\\.1:(\\d+)").matcher(log(err));
            assertThat(m.find()).isTrue();
            int port = Integer.parseInt(m.group(1));
            assertThat(log(err).lines().filter(l -> l.contains(" started in ")).count()).isEqualTo(2);
            assertThat(HttpLoad.start(port, "/", 2, 20, true).await().failed()).isZero();

            Cli.Result status = Cli.run(LONG, "serve", "--status", Integer.toString(port));
            assertThat(status.exitCode()).as(status.err()).isZero();
            assertThat(status.out().lines().filter(l -> l.contains(" READY "))).hasSize(2);

            signal(serve, "HUP");
            awaitServe(serve, err, "the reload", () -> log(err).contains("reload done in"));

            signal(serve, "TTIN");
            awaitServe(serve, err, "a third worker", () -> readyWorkers(pidFile) == 3);
            signal(serve, "TTOU");
            awaitServe(serve, err, "back to two workers", () -> log(err).contains("exited: stopped (scaled down to 2)"));
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
    void serve_startedWithHupIgnored_saysThatHupCannotReloadIt_andStillStopsOnTerm() throws Exception {
        Path dir = Files.createTempDirectory("multiproc-serve-test");
        Path err = dir.resolve("err.txt");
        List<String> cmd = List.of("env", "--ignore-signal=HUP", "--default-signal=TERM",
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"), Main.class.getName(),
                "serve", "--workers", "1", "--port", "0", ServeTestHandler.class.getName());
        Process serve = new ProcessBuilder(cmd).redirectError(err.toFile()).redirectOutput(dir.resolve("out.txt").toFile())
                .start();
        try {
            awaitServe(serve, err, "the listening line", () -> log(err).contains("listening on 127.0.0.1:"));
            awaitServe(serve, err, "the warning", () -> log(err).contains("SIGHUP was ignored when this JVM started"));
            assertThat(log(err)).as("only HUP was ignored").doesNotContain("SIGTERM was ignored");
            signal(serve, "TERM");
            assertThat(serve.waitFor(LONG.toSeconds(), TimeUnit.SECONDS)).as(log(err)).isTrue();
            assertThat(serve.exitValue()).as(log(err)).isZero();
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

    /**
     * Waits as {@link Conditions#await} does; on a timeout the failure carries what is needed to
     * explain it afterwards: serve's whole log, whether it is alive, and its threads (jcmd).
     */
    private static void awaitServe(Process serve, Path err, String what, BooleanSupplier condition) throws Exception {
        try {
            Conditions.await(what, LONG, condition);
        } catch (AssertionError timedOut) {
            throw new AssertionError(timedOut.getMessage() + "; serve " + (serve.isAlive() ? "is alive" : "exited with "
                    + serve.exitValue()) + ", its log:\n" + log(err) + "\nits threads:\n" + threadDump(serve), timedOut);
        }
    }

    private static String threadDump(Process serve) {
        if (!serve.isAlive()) {
            return "(none: it exited)";
        }
        try {
            // Thread.dump_to_file: virtual threads too (the reload runs on one), which Thread.print leaves out
            Path dump = Files.createTempFile("serve-threads", ".txt");
            Files.delete(dump);
            Process jcmd = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "jcmd").toString(),
                    Long.toString(serve.pid()), "Thread.dump_to_file", "-format=text", dump.toString())
                    .redirectErrorStream(true).start();
            try {
                // read on another thread, so a jcmd that hangs is given up at its deadline
                var out = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
                    try {
                        return new String(jcmd.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
                    } catch (IOException e) {
                        return "(jcmd's output could not be read: " + e + ")";
                    }
                });
                String said = out.get(30, TimeUnit.SECONDS);
                return Files.exists(dump) ? Files.readString(dump) : "(jcmd wrote no dump: " + said + ")";
            } finally {
                jcmd.destroyForcibly();
                Files.deleteIfExists(dump);
            }
        } catch (Exception e) {
            return "(no thread dump: " + e + ")";
        }
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
