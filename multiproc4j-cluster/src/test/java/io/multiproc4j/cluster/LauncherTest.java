package io.multiproc4j.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import io.multiproc4j.testkit.Conditions;
import io.multiproc4j.testkit.Deadline;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.sshd.server.SshServer;
import java.security.PublicKey;
import org.apache.sshd.common.config.keys.AuthorizedKeyEntry;
import org.apache.sshd.common.config.keys.KeyUtils;
import org.apache.sshd.common.config.keys.PublicKeyEntry;
import org.apache.sshd.common.config.keys.PublicKeyEntryResolver;
import org.apache.sshd.server.keyprovider.SimpleGeneratorHostKeyProvider;
import org.apache.sshd.server.shell.ProcessShellFactory;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The launcher against a real SSH server: Apache MINA SSHD in this JVM on 127.0.0.1, public-key
 * authentication for the user {@code tester} only, and a command factory that runs each session's
 * command with {@code /bin/sh -c} on this machine, as a remote host's sshd would. The launcher uses
 * the system {@code ssh} client.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Deadline(seconds = 240)
class LauncherTest {
    private SshServer server;
    private Path dir;
    private Path goodKey;
    private Path strangerKey;

    @BeforeAll
    void startSshServer() throws Exception {
        dir = Files.createTempDirectory("multiproc4j-launch-test-");
        goodKey = keygen("tester");
        strangerKey = keygen("stranger");
        Files.copy(Path.of(goodKey + ".pub"), dir.resolve("authorized_keys"));
        // read once: the file-watching AuthorizedKeysAuthenticator can reload under two concurrent logins and refuse one
        List<PublicKey> authorized = PublicKeyEntry.resolvePublicKeyEntries(null,
                AuthorizedKeyEntry.readAuthorizedKeys(dir.resolve("authorized_keys")), PublicKeyEntryResolver.FAILING);
        server = SshServer.setUpDefaultServer();
        server.setHost("127.0.0.1");
        server.setPort(0);
        server.setKeyPairProvider(new SimpleGeneratorHostKeyProvider(dir.resolve("host-key")));
        server.setPublickeyAuthenticator((user, key, session) -> user.equals("tester")
                && authorized.stream().anyMatch(k -> KeyUtils.compareKeys(k, key)));
        server.setPasswordAuthenticator(null);
        server.setKeyboardInteractiveAuthenticator(null);
        server.setCommandFactory((channel, command) -> new ProcessShellFactory(command, "/bin/sh", "-c", command).createShell(channel));
        server.start();
    }

    private Path keygen(String name) throws Exception {
        Path key = dir.resolve(name);
        Process p = new ProcessBuilder("ssh-keygen", "-q", "-t", "ecdsa", "-b", "256", "-N", "", "-C", name, "-f", key.toString())
                .redirectErrorStream(true).start();
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8)).isZero();
        return key;
    }

    @AfterAll
    void stopSshServer() throws Exception {
        if (server != null) {
            server.stop(true);
        }
        try (var files = Files.list(dir)) {
            for (Path p : files.toList()) {
                Files.deleteIfExists(p);
            }
        }
        Files.deleteIfExists(dir);
    }

    /** Two consecutive free loopback ports, the first returned. */
    private static int freePortPair() throws IOException {
        for (int i = 0; i < 50; i++) {
            int p;
            try (var s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
                p = s.getLocalPort();
            }
            if (p < 65_535) {
                try (var s = new ServerSocket(p + 1, 1, InetAddress.getLoopbackAddress())) {
                    assertThat(s.getLocalPort()).isEqualTo(p + 1);
                    return p;
                } catch (IOException taken) {
                    // try another
                }
            }
        }
        throw new IOException("no two consecutive free ports");
    }

    private Launcher launcher(Path hosts, Path identity, int basePort) {
        return Launcher.forHosts(Launcher.readHosts(hosts, 0)).sshPort(server.getPort()).identity(identity)
                .sshOption("StrictHostKeyChecking=no").sshOption("UserKnownHostsFile=/dev/null").sshOption("LogLevel=ERROR")
                .basePort(basePort);
    }

    private static List<String> workersAndSshClients() {
        return ProcessHandle.current().descendants().filter(ProcessHandle::isAlive)
                .map(p -> p.info().commandLine().orElse(p.info().command().orElse("?")))
                .filter(c -> c.contains("WorkerMain") || c.startsWith("ssh ") || c.contains("/ssh ")).toList();
    }

    private static List<String> launchThreads() {
        return Thread.getAllStackTraces().keySet().stream().filter(Thread::isAlive).map(Thread::getName)
                .filter(n -> n.startsWith("multiproc4j-cluster-launch")).toList();
    }

    @Test
    void launch_startsWorkersOverSsh_runsTheProgramOnThem_thenStopsThem() throws Exception {
        Path hosts = dir.resolve("hosts-ok.txt");
        Files.writeString(hosts, "# two workers on this machine, reached over SSH\n127.0.0.1 2 tester@\nlocalhost 1 tester@\n");
        Path output = dir.resolve("program-ok.out");
        int base = freePortPair();
        var err = new ByteArrayOutputStream();
        int code = launcher(hosts, goodKey, base).programOutput(ProcessBuilder.Redirect.to(output.toFile()))
                .run(List.of("-cp", System.getProperty("java.class.path"), LaunchedProgram.class.getName(), "2"),
                        new PrintStream(err, true, StandardCharsets.UTF_8));
        String printed = Files.exists(output) ? Files.readString(output) : "(nothing: it never ran)";
        assertThat(code).as("exit code; program printed %s; launcher printed %s", printed, err).isZero();
        long expectedSum = 3L * 1999 * 2000 / 2;
        assertThat(printed).contains("sum=" + expectedSum).contains("members=2").contains("used=2");
        Conditions.await("workers and ssh clients to end, left " + workersAndSshClients(), Duration.ofSeconds(60),
                () -> workersAndSshClients().isEmpty());
        for (int port : List.of(base, base + 1)) {
            Conditions.await("port " + port + " to close", Duration.ofSeconds(30), () -> !SharedCluster.listening("127.0.0.1:" + port));
        }
        Conditions.await("launcher threads to end", Duration.ofSeconds(30), () -> launchThreads().isEmpty());
    }

    @Test
    void launch_whenAHostRefusesTheLogin_failsWithOneClearLine_andLeavesNothingRunning() throws Exception {
        Path hosts = dir.resolve("hosts-refused.txt");
        Files.writeString(hosts, "127.0.0.1 1 tester@\n127.0.0.1 1 intruder@\n");
        Path output = dir.resolve("program-refused.out");
        int base = freePortPair();
        var err = new ByteArrayOutputStream();
        int code = launcher(hosts, goodKey, base).programOutput(ProcessBuilder.Redirect.to(output.toFile()))
                .run(List.of("-cp", System.getProperty("java.class.path"), LaunchedProgram.class.getName(), "2"),
                        new PrintStream(err, true, StandardCharsets.UTF_8));
        String said = err.toString(StandardCharsets.UTF_8);
        assertThat(code).isNotZero();
        assertThat(said.strip().lines()).hasSize(1);
        assertThat(said).startsWith("multiproc launch: SSH login refused for intruder@127.0.0.1:" + server.getPort());
        assertThat(Files.exists(output) ? Files.readString(output) : "").as("the program never ran").isEmpty();
        Conditions.await("workers and ssh clients to end, left " + workersAndSshClients(), Duration.ofSeconds(60),
                () -> workersAndSshClients().isEmpty());
        assertThat(SharedCluster.listening("127.0.0.1:" + base)).isFalse();
        Conditions.await("launcher threads to end", Duration.ofSeconds(30), () -> launchThreads().isEmpty());
    }

    @Test
    void launch_withAKeyTheHostDoesNotKnow_isRefusedToo() throws Exception {
        Path hosts = dir.resolve("hosts-stranger.txt");
        Files.writeString(hosts, "127.0.0.1 1 tester@\n");
        var err = new ByteArrayOutputStream();
        int code = launcher(hosts, strangerKey, freePortPair())
                .run(List.of("-version"), new PrintStream(err, true, StandardCharsets.UTF_8));
        assertThat(code).isEqualTo(1);
        assertThat(err.toString(StandardCharsets.UTF_8)).startsWith("multiproc launch: SSH login refused for tester@127.0.0.1");
        Conditions.await("ssh clients to end", Duration.ofSeconds(60), () -> workersAndSshClients().isEmpty());
    }

    @Test
    void hostsFile_badLines_areNamed() throws Exception {
        Path hosts = dir.resolve("hosts-bad.txt");
        Files.writeString(hosts, "a 2\nb lots\n");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> Launcher.readHosts(hosts, 0))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("line 2").hasMessageContaining("lots");
        Files.writeString(hosts, "a 2 alice@\nb 3\nc\n");
        assertThat(Launcher.readHosts(hosts, 4)).containsExactly(new Launcher.Host("a", 2, "alice"), new Launcher.Host("b", 2, null));
    }
}
