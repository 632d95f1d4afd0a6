package io.multiproc4j.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import io.multiproc4j.testkit.Conditions;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.List;

/**
 * The two-member loopback cluster a test class shares (members start in seconds, not
 * milliseconds), and the checks that nothing of it is left once it closed.
 */
final class SharedCluster {
    private SharedCluster() {}

    /** Threads whose names say they are ours or Hazelcast's. */
    static List<String> ourThreads() {
        return Thread.getAllStackTraces().keySet().stream().filter(Thread::isAlive).map(Thread::getName)
                .filter(n -> n.startsWith("multiproc4j-cluster") || n.startsWith("hz.")).sorted().toList();
    }

    /**
     * Closes the cluster and checks: no member JVM alive, nothing listening on their ports, no
     * thread of ours or Hazelcast's left in this JVM.
     */
    static void closeAndCheck(LocalCluster cluster) {
        cluster.close();
        for (LocalCluster.LocalMember m : cluster.members()) {
            Conditions.await("member " + m.address() + " (pid " + m.pid() + ") to exit", Duration.ofSeconds(30),
                    () -> !Conditions.alive(m.pid()));
            assertThat(listening(m.address())).as("something still listens on %s", m.address()).isFalse();
        }
        Conditions.await("no cluster thread left, had " + ourThreads(), Duration.ofSeconds(30), () -> ourThreads().isEmpty());
    }

    static boolean listening(String address) {
        int colon = address.lastIndexOf(':');
        try (var socket = new Socket()) {
            socket.connect(new InetSocketAddress(address.substring(0, colon), Integer.parseInt(address.substring(colon + 1))), 500);
            return true;
        } catch (IOException e) {
            return false;
        }
    }
}
