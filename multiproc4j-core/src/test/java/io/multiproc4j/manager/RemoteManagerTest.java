package io.multiproc4j.manager;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.multiproc4j.internal.manager.Addresses;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Lock;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** A manager served on an ephemeral loopback TCP port with a random key, used from other JVMs. */
@Timeout(120)
class RemoteManagerTest {
    private static final SecureRandom RANDOM = new SecureRandom();
    private static byte[] key;
    private static Manager server;
    private static String address;

    @BeforeAll
    static void serve() {
        key = new byte[32];
        RANDOM.nextBytes(key);
        server = Manager.serve(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), key);
        address = Addresses.format(server.address());
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
    }

    @Test
    void remoteManager_onEphemeralLoopbackPort_isUsedByConcurrentClientJvms() throws Exception {
        assertThat(((InetSocketAddress) server.address()).getPort()).isPositive();
        List<ChildJvm> children = new java.util.ArrayList<>();
        try {
            for (int i = 0; i < 3; i++) {
                children.add(new ChildJvm("use", address, key));
            }
            java.util.Set<String> expected = new java.util.HashSet<>();
            for (ChildJvm child : children) {
                assertThat(child.awaitExit()).as(child.output()).isZero();
                expected.add("from " + child.process.pid());
            }
            assertThat(server.<String, Integer>map("remote").get("hits")).isEqualTo(30);
            BlockingQueue<String> queue = server.queue("remoteQueue");
            java.util.Set<String> got = new java.util.HashSet<>();
            for (int i = 0; i < 3; i++) {
                got.add(queue.poll(10, TimeUnit.SECONDS));
            }
            assertThat(got).isEqualTo(expected);
        } finally {
            children.forEach(ChildJvm::close);
        }
    }

    @Test
    void wrongKey_isRefusedOnTheClient_andLoggedOnTheServer() {
        byte[] wrong = key.clone();
        wrong[0] ^= 1;
        assertThatThrownBy(() -> Manager.connect(server.address(), wrong))
                .isInstanceOf(ManagerAuthenticationException.class)
                .hasMessageContaining("refused this client")
                .hasMessageContaining("key");
        // a manager in its own JVM (loopback TCP, random key): the refusal shows in its log
        try (Manager other = Manager.builder().loopbackTcp().start()) {
            assertThatThrownBy(() -> Manager.connect(other.address(), key))
                    .isInstanceOf(ManagerAuthenticationException.class);
            Conditions.await(() -> other.serverOutput().stream()
                    .anyMatch(line -> line.contains("refused a client") && line.contains("key does not match")),
                    Duration.ofSeconds(10), () -> "server log: " + other.serverOutput());
        }
        assertThatThrownBy(() -> Manager.connect(server.address(), new byte[8]))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("at least 16 bytes");
    }

    @Test
    void unauthenticatedPeer_cannotSendALargeFrame() throws Exception {
        try (SocketChannel raw = SocketChannel.open(server.address())) {
            ByteBuffer challenge = ByteBuffer.allocate(4 + 1 + 4 + 32);
            while (challenge.hasRemaining()) {
                assertThat(raw.read(challenge)).isNotNegative();
            }
            // announce a 100 MB frame: the server must close rather than allocate it
            raw.write(ByteBuffer.allocate(5).putInt(100_000_000).put((byte) 2).flip());
            ByteBuffer sink = ByteBuffer.allocate(256);
            int n;
            do {
                n = raw.read(sink.clear());
            } while (n > 0);
            assertThat(n).isEqualTo(-1);
        }
        assertThat(server.map("stillServing").isEmpty()).isTrue();
    }

    @Test
    void messageOverTheServersLimit_isRefusedAtTheCall() {
        try (Manager small = Manager.builder().maxFrameBytes(4096)
                .serve(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), key)) {
            var map = small.<String, String>map("limited");
            assertThatThrownBy(() -> map.put("big", "x".repeat(10_000)))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("more than the manager accepts (4096)");
            map.put("small", "fits");
            assertThat(map).containsOnlyKeys("small");
        }
    }

    @Test
    void clientHoldingALock_isKilled_andAnotherClientGetsIt() throws Exception {
        Lock lock = server.lock("held");
        try (var child = new ChildJvm("lock", address, key)) {
            child.awaitLine("LOCKED"::equals);
            assertThat(lock.tryLock()).isFalse();
            child.process.destroyForcibly();  // SIGKILL: no chance to unlock
            assertThat(lock.tryLock(30, TimeUnit.SECONDS)).isTrue();
            lock.unlock();
        }
    }

    @Test
    void largeValues_travelWhole_bothWays() {
        byte[] big = new byte[5 << 20];
        RANDOM.nextBytes(big);
        var map = server.<String, byte[]>map("large");
        map.put("blob", big);  // more than the socket buffer: the backlog and the large-frame read both run
        assertThat(map.get("blob")).isEqualTo(big);
    }

    @Test
    void proxies_crossJvmsAsValues() {
        List<Integer> list = server.list("plain");
        list.addAll(List.of(3, 1, 2));
        assertThat(list).containsExactly(3, 1, 2);
        assertThat(list.indexOf(2)).isEqualTo(2);
        assertThat(list.remove(0)).isEqualTo(3);               // remove(int)
        assertThat(list.remove(Integer.valueOf(2))).isTrue();  // remove(Object)
        assertThat(list).containsExactly(1);
    }
}
