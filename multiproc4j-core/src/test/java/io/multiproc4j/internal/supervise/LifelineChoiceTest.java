package io.multiproc4j.internal.supervise;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.multiproc4j.Pool;
import io.multiproc4j.SerializableFunction;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A pool's workers connect over a Unix-domain socket in a private directory by default;
 * {@code -Dmultiproc4j.lifeline=tcp} gives them a loopback TCP socket, and then they never
 * initialize the JDK's Unix-domain socket class (its {@code SecureRandom} is most of that socket's
 * start-up cost); any other value is refused at the pool's creation. Real worker JVMs.
 */
@Timeout(300)
class LifelineChoiceTest {
    private static final String UNIX_SOCKETS_INIT = "Initializing 'sun/nio/ch/UnixDomainSockets'";
    private static final SerializableFunction<Integer, Long> PID = x -> ProcessHandle.current().pid();

    private static String socketOf(long pid) throws Exception {
        String environment = Files.readString(Path.of("/proc/" + pid + "/environ"));
        return Arrays.stream(environment.split("\0")).filter(e -> e.startsWith(WorkerProcess.ENV_SOCKET + "="))
                .findFirst().orElseThrow(() -> new AssertionError("no socket in the worker's environment"))
                .substring(WorkerProcess.ENV_SOCKET.length() + 1);
    }

    @Test
    void withTheTcpLifeline_workersConnectOverLoopback_andNeverInitializeUnixDomainSockets(@TempDir Path dir) throws Exception {
        Path log = dir.resolve("class-init.log");
        String before = System.getProperty(Lifeline.PROPERTY);
        System.setProperty(Lifeline.PROPERTY, "tcp");
        try (Pool pool = Pool.builder().processes(1).jvmOptions("-Xlog:class+init=info:file=" + log).build()) {
            long pid = pool.applyAsync(PID, 1).get(120, TimeUnit.SECONDS);
            assertThat(socketOf(pid)).matches("tcp:127\\.0\\.0\\.1:[0-9]+");
            assertThat(Files.readString(log)).as("the worker's class initializations")
                    .contains("Initializing 'io/multiproc4j/internal/worker/WorkerMain'").doesNotContain(UNIX_SOCKETS_INIT);
        } finally {
            restore(before);
        }
    }

    @Test
    void byDefault_workersConnectOverAUnixSocketInAPrivateDirectory(@TempDir Path dir) throws Exception {
        Path log = dir.resolve("class-init.log");
        String before = System.getProperty(Lifeline.PROPERTY);
        System.clearProperty(Lifeline.PROPERTY);
        try (Pool pool = Pool.builder().processes(1).jvmOptions("-Xlog:class+init=info:file=" + log).build()) {
            long pid = pool.applyAsync(PID, 1).get(120, TimeUnit.SECONDS);
            String socket = socketOf(pid);
            assertThat(socket).startsWith("/").endsWith("/s.sock");
            assertThat(Files.getPosixFilePermissions(Path.of(socket).getParent()))
                    .containsExactlyInAnyOrderElementsOf(java.nio.file.attribute.PosixFilePermissions.fromString("rwx------"));
            assertThat(Files.readString(log)).as("the worker's class initializations").contains(UNIX_SOCKETS_INIT);
        } finally {
            restore(before);
        }
    }

    private static void restore(String before) {
        if (before == null) {
            System.clearProperty(Lifeline.PROPERTY);
        } else {
            System.setProperty(Lifeline.PROPERTY, before);
        }
    }

    @Test
    void anUnknownLifeline_isRefusedAtThePoolsCreation_namingTheChoices() {
        String before = System.getProperty(Lifeline.PROPERTY);
        System.setProperty(Lifeline.PROPERTY, "udp");
        try {
            assertThatThrownBy(() -> Pool.processes(1)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("-Dmultiproc4j.lifeline=udp").hasMessageContaining("tcp").hasMessageContaining("unix");
        } finally {
            restore(before);
        }
    }
}
