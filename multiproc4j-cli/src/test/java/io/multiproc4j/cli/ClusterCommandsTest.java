package io.multiproc4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.multiproc4j.Pool;
import io.multiproc4j.cluster.ClusterConfig;
import io.multiproc4j.cluster.ClusterPool;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code multiproc worker} and {@code multiproc launch} as a user runs them: a worker started by the
 * command serves a client holding the same key and stops on SIGTERM; bad input is one line on
 * stderr and exit code 1 (as for every failure while running; a malformed option is exit code 2),
 * before anything starts. (The launcher's SSH runs are tested against a real SSH server in the
 * cluster module's {@code LauncherTest}.)
 */
@Timeout(300)
class ClusterCommandsTest {
    private static final Duration T = Duration.ofSeconds(120);

    @Test
    void worker_runsTheChunksOfAClientWithTheSameKey_andStopsOnSigterm(@TempDir Path dir) throws Exception {
        byte[] key = new byte[32];
        new SecureRandom().nextBytes(key);
        Path keyFile = Files.write(dir.resolve("key"), key);
        int port = freePort();
        String name = "cli-worker-" + ProcessHandle.current().pid() + "-" + port;
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"), Main.class.getName(),
                "worker", "--cluster", name, "--key-file", keyFile.toString(), "--port", Integer.toString(port),
                "--threads", "2"));
        Process worker = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        try {
            LinkedBlockingQueue<String> lines = new LinkedBlockingQueue<>();
            Thread.ofVirtual().start(() -> {
                try (BufferedReader in = new BufferedReader(new InputStreamReader(worker.getInputStream(), StandardCharsets.UTF_8))) {
                    for (String line; (line = in.readLine()) != null; ) {
                        lines.add(line);
                    }
                } catch (IOException e) {
                    lines.add("EOF: " + e);
                }
                lines.add("EOF");
            });
            String ready = awaitLineStartingWith(lines, "ready ", T);
            assertThat(ready).contains("127.0.0.1:" + port).contains("cluster " + name);

            ClusterConfig config = ClusterConfig.members("127.0.0.1:" + port).clusterName(name).authKey(key);
            List<Integer> inputs = IntStream.range(0, 1_000).boxed().toList();
            try (Pool pool = ClusterPool.connect(config)) {
                List<Integer> doubled = pool.map((Integer x) -> x * 2, inputs);
                assertThat(doubled).isEqualTo(inputs.stream().map(x -> x * 2).toList());
            }

            worker.destroy(); // SIGTERM: the shutdown hook closes the member
            assertThat(worker.waitFor(60, TimeUnit.SECONDS)).as("the worker exited after SIGTERM").isTrue();
            try (ServerSocket again = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
                assertThat(again.getLocalPort()).as("the member port is free again").isEqualTo(port);
            }
        } finally {
            worker.descendants().forEach(ProcessHandle::destroyForcibly);
            worker.destroyForcibly();
            worker.waitFor(30, TimeUnit.SECONDS);
        }
    }

    @Test
    void worker_withoutAReadableKeyFile_isOneLineError_exit1(@TempDir Path dir) throws Exception {
        Cli.Result r = Cli.run(T, "worker", "--key-file", dir.resolve("missing").toString());
        assertThat(r.exitCode()).isEqualTo(1);
        r.assertOneLineError();
        assertThat(r.err()).contains("cannot read the key file").contains("missing");
    }

    @Test
    void worker_withAShortKey_isOneLineError_sayingHowToMakeOne(@TempDir Path dir) throws Exception {
        Path keyFile = Files.write(dir.resolve("key"), new byte[8]);
        Cli.Result r = Cli.run(T, "worker", "--key-file", keyFile.toString());
        assertThat(r.exitCode()).isEqualTo(1);
        r.assertOneLineError();
        assertThat(r.err()).contains("holds 8 bytes").contains("at least 16").contains("head -c 32 /dev/urandom");
    }

    @Test
    void worker_badCapacityOrPort_isOneLineError_namingTheOption(@TempDir Path dir) throws Exception {
        Path keyFile = Files.write(dir.resolve("key"), new byte[32]);
        Cli.Result threads = Cli.run(T, "worker", "--key-file", keyFile.toString(), "--threads", "0");
        assertThat(threads.exitCode()).isEqualTo(1);
        threads.assertOneLineError();
        assertThat(threads.err()).contains("--threads must be >= 1");

        Cli.Result port = Cli.run(T, "worker", "--key-file", keyFile.toString(), "--port", "70000");
        assertThat(port.exitCode()).isEqualTo(1);
        port.assertOneLineError();
        assertThat(port.err()).contains("--port must be between 1 and 65535");

        Cli.Result both = Cli.run(T, "worker", "--key-file", keyFile.toString(), "--processes", "2",
                "--class-path", dir.toString());
        assertThat(both.exitCode()).isEqualTo(1);
        both.assertOneLineError();
        assertThat(both.err()).contains("--class-path works with --threads");
    }

    @Test
    void launch_withAHostsFileThatCannotBeRead_isOneLineError_exit1(@TempDir Path dir) throws Exception {
        Cli.Result r = Cli.run(T, "launch", "--hosts", dir.resolve("hosts.txt").toString(), "--", "-version");
        assertThat(r.exitCode()).isEqualTo(1);
        r.assertOneLineError();
        assertThat(r.err()).contains("hosts.txt");
    }

    @Test
    void launch_withABadHostsLine_namesTheLine_exit1(@TempDir Path dir) throws Exception {
        Path hosts = Files.writeString(dir.resolve("hosts.txt"), "127.0.0.1 2\nhost-b many\n");
        Cli.Result r = Cli.run(T, "launch", "--hosts", hosts.toString(), "--", "-version");
        assertThat(r.exitCode()).isEqualTo(1);
        r.assertOneLineError();
        assertThat(r.err()).contains("line 2").contains("many");
    }

    private static String awaitLineStartingWith(LinkedBlockingQueue<String> lines, String prefix, Duration timeout)
            throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        List<String> seen = new ArrayList<>();
        for (;;) {
            String line = lines.poll(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            if (line == null || line.startsWith("EOF")) {
                throw new AssertionError("no line starting with '" + prefix + "' within " + timeout + "; printed " + seen);
            }
            if (line.startsWith(prefix)) {
                return line;
            }
            seen.add(line);
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }
}
