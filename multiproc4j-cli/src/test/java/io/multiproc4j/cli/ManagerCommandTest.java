package io.multiproc4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.multiproc4j.manager.Manager;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code multiproc manager} as a user runs it: a real server process, a real client over loopback TCP. */
class ManagerCommandTest {

    @Test
    void manager_servesClientsWithTheKey_untilStopped(@TempDir Path dir) throws Exception {
        byte[] key = new byte[32];
        new SecureRandom().nextBytes(key);
        Path keyFile = dir.resolve("key");
        Files.write(keyFile, key);
        Files.setPosixFilePermissions(keyFile, PosixFilePermissions.fromString("rw-------"));
        List<String> cmd = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"), Main.class.getName(),
                "manager", "--port", "0", "--key-file", keyFile.toString());
        Process server = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        try {
            var out = new BufferedReader(new InputStreamReader(server.getInputStream(), StandardCharsets.UTF_8));
            String line = out.readLine();
            assertThat(line).as("the server's first line").isNotNull().startsWith("multiproc manager: serving on ");
            int port = Integer.parseInt(line.replaceAll(".*:(\\d+).*", "$1"));
            try (Manager client = Manager.connect(new InetSocketAddress("127.0.0.1", port), key)) {
                Map<String, Integer> scores = client.map("scores");
                scores.put("alice", 3);
                scores.merge("alice", 4, Integer::sum);
                assertThat(scores.get("alice")).isEqualTo(7);
            }
            server.destroy(); // SIGTERM: the shutdown hook closes the manager
            assertThat(server.waitFor(30, TimeUnit.SECONDS)).isTrue();
        } finally {
            server.destroyForcibly();
        }
    }

    @Test
    void manager_refusesAShortKeyFile_andBadArguments_inOneLine(@TempDir Path dir) throws Exception {
        Path shortKey = dir.resolve("short");
        Files.writeString(shortKey, "tiny");
        Cli.Result result = Cli.run(Duration.ofSeconds(60), "manager", "--port", "0", "--key-file", shortKey.toString());
        assertThat(result.exitCode()).isEqualTo(Main.FAILED);
        assertThat(result.err()).contains("at least 16").contains("head -c 32 /dev/urandom").doesNotContain("\tat ");
        Cli.Result missing = Cli.run(Duration.ofSeconds(60), "manager", "--port", "0", "--key-file", dir.resolve("nope").toString());
        assertThat(missing.exitCode()).isEqualTo(Main.FAILED);
        assertThat(missing.err().lines().count()).isEqualTo(1);
        Cli.Result noPort = Cli.run(Duration.ofSeconds(60), "manager", "--key-file", shortKey.toString());
        assertThat(noPort.exitCode()).isEqualTo(Main.BAD_ARGUMENTS);
        Cli.Result badPort = Cli.run(Duration.ofSeconds(60), "manager", "--port", "70000", "--key-file", shortKey.toString());
        assertThat(badPort.exitCode()).isEqualTo(Main.BAD_ARGUMENTS);
    }
}
