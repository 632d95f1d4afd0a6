package io.multiproc4j.manager;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.multiproc4j.internal.manager.Addresses;
import io.multiproc4j.internal.transport.PeerCredentials;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.HexFormat;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The kernel's record of who connected ({@code SO_PEERCRED}) names the client in the manager's log and
 * keeps other users out unless the manager lets them in. The other user is real: a client JVM run
 * as {@code nobody} through {@code setpriv} (needs root and setpriv; skipped otherwise).
 */
@Timeout(180)
class PeerCredentialsTest {
    private static final int NOBODY = 65534;
    @TempDir
    Path dir;

    private static int effectiveUid() throws Exception {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("Uid:")) {
                return Integer.parseInt(line.split("\\s+")[2]);
            }
        }
        throw new IllegalStateException("no Uid line in /proc/self/status");
    }

    @Test
    void credentials_ofARealSocket_nameThisProcess() throws Exception {
        Path path = dir.resolve("s");
        try (var server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            server.bind(UnixDomainSocketAddress.of(path));
            try (var client = SocketChannel.open(StandardProtocolFamily.UNIX)) {
                client.connect(UnixDomainSocketAddress.of(path));
                try (SocketChannel accepted = server.accept()) {
                    int bufferBefore = accepted.getOption(java.net.StandardSocketOptions.SO_RCVBUF);
                    PeerCredentials peer = PeerCredentials.of(accepted).orElseThrow();
                    assertThat(peer.pid()).isEqualTo(ProcessHandle.current().pid());
                    assertThat(peer.uid()).isEqualTo(effectiveUid());
                    assertThat(peer.user()).isEqualTo(PeerCredentials.thisProcessUser());
                    assertThat(peer.sameUserAsThisProcess()).isTrue();
                    assertThat(peer.describe()).contains("pid " + ProcessHandle.current().pid());
                    // reading them left the socket as it was
                    assertThat(accepted.getOption(java.net.StandardSocketOptions.SO_RCVBUF)).isEqualTo(bufferBefore);
                }
            }
        }
    }

    @Test
    void names_ofARealSocket_nameThisUser_andLeaveTheIdsUnknown() throws Exception {
        Path path = dir.resolve("s");
        try (var server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            server.bind(UnixDomainSocketAddress.of(path));
            try (var client = SocketChannel.open(StandardProtocolFamily.UNIX)) {
                client.connect(UnixDomainSocketAddress.of(path));
                try (SocketChannel accepted = server.accept()) {
                    PeerCredentials names = PeerCredentials.names(accepted).orElseThrow();
                    assertThat(names.user()).isEqualTo(PeerCredentials.thisProcessUser());
                    assertThat(names.sameUserAsThisProcess()).isTrue();
                    assertThat(names.pid()).isEqualTo(-1);
                    assertThat(names.uid()).isEqualTo(-1);
                    assertThat(names.describe()).contains("pid unknown");
                }
            }
        }
    }

    /** Runs ManagerClientMain "use" as nobody, with only the class directories it needs on its class path. */
    private static Process asNobody(String address, byte[] key) throws Exception {
        String classPath = String.join(":", Path.of(Manager.class.getProtectionDomain().getCodeSource().getLocation().toURI()).toString(),
                Path.of(ManagerClientMain.class.getProtectionDomain().getCodeSource().getLocation().toURI()).toString());
        String java = ProcessHandle.current().info().command().orElseThrow();
        var builder = new ProcessBuilder("setpriv", "--reuid=" + NOBODY, "--regid=" + NOBODY, "--clear-groups", java,
                "--enable-native-access=ALL-UNNAMED", "-Xshare:auto", "-cp", classPath,
                ManagerClientMain.class.getName(), "use");
        builder.environment().put(ManagerClientMain.ENV_ADDRESS, address);
        builder.environment().put(ManagerClientMain.ENV_KEY, HexFormat.of().formatHex(key));
        builder.environment().put("HOME", "/tmp");
        builder.redirectErrorStream(true);
        return builder.start();
    }

    private static String finish(Process process) throws Exception {
        try {
            String output = new String(process.getInputStream().readAllBytes());
            assertThat(process.waitFor(60, TimeUnit.SECONDS)).as("the client exited").isTrue();
            return output;
        } finally {
            process.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
        }
    }

    /** Lets another user reach a started manager's socket (its directory is this user's only). */
    private static void openToEveryone(Manager manager) throws Exception {
        Path socket = ((UnixDomainSocketAddress) manager.address()).getPath();
        Files.setPosixFilePermissions(socket.getParent(), PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.setPosixFilePermissions(socket, PosixFilePermissions.fromString("rwxrwxrwx"));
    }

    @Test
    void clientOfAnotherUser_isRefusedBeforeTheHandshake_andLoggedWithItsPidAndUid() throws Exception {
        assumeTrue(effectiveUid() == 0, "only root can run a client as another user");
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/setpriv")), "setpriv is not installed");
        try (Manager strict = Manager.start()) {
            openToEveryone(strict);
            Process client = asNobody(Addresses.format(strict.address()), strict.keyForTests());
            String output = finish(client);
            assertThat(client.exitValue()).as(output).isNotZero();
            assertThat(output).contains(ManagerAuthenticationException.class.getName())
                    .contains("runs as nobody").contains("allowOtherUsers()");
            Conditions.await(() -> strict.serverOutput().stream().anyMatch(line -> line.contains("refused")
                    && line.contains("pid " + client.pid()) && line.contains("uid " + NOBODY)),
                    java.time.Duration.ofSeconds(30), () -> "the refusal in the manager's log: " + strict.serverOutput());
            assertThat(strict.<String, Integer>map("remote")).doesNotContainKey("hits");
        }
        try (Manager open = Manager.builder().allowOtherUsers().start()) {
            openToEveryone(open);
            Process client = asNobody(Addresses.format(open.address()), open.keyForTests());
            String output = finish(client);
            assertThat(client.exitValue()).as(output).isZero();
            assertThat(open.<String, Integer>map("remote").get("hits")).isEqualTo(10);
        }
    }
}
