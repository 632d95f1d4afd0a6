package io.multiproc4j.manager;

import static org.assertj.core.api.Assertions.assertThat;

import io.multiproc4j.Pool;
import java.io.ByteArrayOutputStream;
import java.io.ObjectOutputStream;
import java.net.UnixDomainSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentMap;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A serialized proxy carries a revocable capability, never the key: its bytes hold no trace of the
 * key, a process without the key connects with them until they are revoked, and pool workers keep
 * working across a revocation because their next task carries the new capability.
 */
@Timeout(180)
class ProxyCapabilityTest {
    private static final SecureRandom RANDOM = new SecureRandom();
    @TempDir
    Path dir;
    private byte[] key;
    private Manager manager;

    @BeforeEach
    void serve() {
        key = new byte[32];
        RANDOM.nextBytes(key);
        manager = Manager.serve(UnixDomainSocketAddress.of(dir.resolve("m.sock")), key);
    }

    @AfterEach
    void stop() {
        if (manager != null) {
            manager.close();
        }
    }

    private byte[] serialize(Object... proxies) throws Exception {
        var bytes = new ByteArrayOutputStream();
        try (var out = new ObjectOutputStream(bytes)) {
            out.writeObject(new java.util.ArrayList<>(List.of(proxies)));
        }
        return bytes.toByteArray();
    }

    private Path write(byte[] bytes, String name) throws Exception {
        return Files.write(dir.resolve(name), bytes);
    }

    private static boolean contains(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= haystack.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return true;
        }
        return false;
    }

    @Test
    void serializedProxy_holdsNoTraceOfTheKey() throws Exception {
        ConcurrentMap<String, Long> map = manager.map("m");
        byte[] bytes = serialize(map, manager.queue("never"));
        assertThat(contains(bytes, key)).as("raw key in the bytes").isFalse();
        assertThat(contains(bytes, java.util.Arrays.copyOf(key, 8))).as("a prefix of the key").isFalse();
        for (String text : List.of(HexFormat.of().formatHex(key), HexFormat.of().withUpperCase().formatHex(key),
                Base64.getEncoder().encodeToString(key))) {
            assertThat(contains(bytes, text.getBytes(StandardCharsets.UTF_8))).as("key as " + text).isFalse();
        }
        // and the bytes still name the manager, so the proxy is a real one (not an empty shell)
        assertThat(new String(bytes, StandardCharsets.ISO_8859_1)).contains(dir.resolve("m.sock").toString());
    }

    @Test
    void processWithoutTheKey_connectsWithTheCapability_untilItIsRevoked() throws Exception {
        ConcurrentMap<String, Long> map = manager.map("m");
        Path proxyFile = write(serialize(map, manager.queue("never")), "proxy.bin");
        var env = Map.of(ManagerClientMain.ENV_PROXY_FILE, proxyFile.toString());
        try (var holder = new ChildJvm("proxy", env)) {
            holder.awaitLine("USED"::equals);
            assertThat(map.get("child")).isEqualTo(holder.process.pid());

            manager.revokeSerializedProxies();
            // the process that connected with the capability is cut off, even while it waits in take()
            assertThat(holder.awaitLine(l -> l.startsWith("DISCONNECTED")))
                    .contains(ManagerUnavailableException.class.getName());
        }
        // the same bytes, anywhere, no longer connect
        try (var late = new ChildJvm("proxy", env)) {
            String line = late.awaitLine(l -> l.startsWith("FAILED") || l.equals("USED"));
            assertThat(line).startsWith("FAILED " + ManagerAuthenticationException.class.getName())
                    .contains("revoked");
            assertThat(late.awaitExit()).isEqualTo(3);
        }
        // a proxy serialized after the revocation carries a new capability, which works
        map.remove("child");
        Path fresh = write(serialize(map, manager.queue("never")), "fresh.bin");
        try (var next = new ChildJvm("proxy", Map.of(ManagerClientMain.ENV_PROXY_FILE, fresh.toString()))) {
            next.awaitLine("USED"::equals);
            assertThat(map.get("child")).isEqualTo(next.process.pid());
        }
    }

    @Test
    void capability_diesWithTheConnectionThatIssuedIt() throws Exception {
        // a second client of the same manager, in this JVM but with its own connection: Manager.connect
        Manager client = Manager.connect(manager.address(), key);
        Path proxyFile;
        try {
            proxyFile = write(serialize(client.map("m"), client.queue("never")), "client.bin");
        } finally {
            client.close();
        }
        // this JVM's own connection survives (it belongs to `manager`), but the bytes above were issued
        // to `client`'s connection, which is closed now: fewer live copies of access than bytes written
        try (var late = new ChildJvm("proxy", Map.of(ManagerClientMain.ENV_PROXY_FILE, proxyFile.toString()))) {
            String line = late.awaitLine(l -> l.startsWith("FAILED") || l.equals("USED"));
            assertThat(line).startsWith("FAILED " + ManagerAuthenticationException.class.getName());
        }
    }

    @Test
    void poolWorkers_useCapturedProxies_acrossARevocation() {
        BlockingQueue<Integer> seen = manager.queue("seen");
        ConcurrentMap<String, Integer> counts = manager.map("counts");
        try (Pool pool = Pool.processes(2)) {
            List<Integer> inputs = IntStream.range(0, 40).boxed().toList();
            pool.map(x -> counts.merge("before", 1, Integer::sum), inputs, 5);
            manager.revokeSerializedProxies();  // the workers' connections are closed under them
            // the next tasks carry the new capability: each worker reconnects with it
            pool.map(x -> {
                seen.add(x);
                return counts.merge("after", 1, Integer::sum);
            }, inputs, 5);
        }
        assertThat(counts).containsEntry("before", 40).containsEntry("after", 40);
        assertThat(seen).hasSize(40);
    }
}
