package io.multiproc4j.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import io.multiproc4j.Pool;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.stream.IntStream;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.AfterProperty;
import net.jqwik.api.lifecycle.BeforeContainer;

/**
 * Fuzzes the socket a process pool's workers connect to (in this JVM; a Unix-domain socket by
 * default, a loopback TCP port with {@code -Dmultiproc4j.lifeline=tcp}): before a worker has sent HELLO with its one-time key, anything else must be refused,
 * leave nothing behind, and the pool must keep running tasks. The socket is found where the pool
 * tells its workers: {@code MULTIPROC4J_SOCKET} in the worker's environment.
 *
 * <p>The generated inputs announce lengths of at most 1 KiB; the examples at the end cover forged
 * huge lengths, a replayed HELLO and a silent peer.
 */
class WorkerHandshakeFuzzTest {
    /** HELLO .. SHUTDOWN: the pool protocol's frame types (FrameType's ordinals). */
    private static final Set<Integer> POOL_TYPES = Set.copyOf(IntStream.range(0, 9).boxed().toList());
    private static final int HELLO = 0;
    private static final int SAFE_LENGTH = 1024;
    private static final Duration CLOSE_DEADLINE = Duration.ofSeconds(30);
    /** Same reasons as in ManagerPortFuzzTest: JIT and carrier threads come on demand. */
    private static final int THREAD_SLACK = 4, FD_SLACK = 2;

    private static Pool pool;
    private static SocketAddress socket;
    private static ProcessResources.Snapshot baseline;

    @BeforeContainer
    static void start() throws Exception {
        pool = Pool.processes(1);
        assertThat(pool.map(x -> x + 1, List.of(1, 2, 3))).containsExactly(2, 3, 4);
        socket = poolSocket(workerEnvironment("MULTIPROC4J_SOCKET"));
        for (int i = 0; i < 10; i++) {
            PortFuzzer.send(socket, List.of(FrameFuzz.frame(HELLO, new byte[8])), CLOSE_DEADLINE);
        }
        baseline = ProcessResources.self();
    }

    @AfterContainer
    static void stop() {
        if (pool != null) {
            pool.close();
        }
    }

    /** @return the pool's worker JVM */
    private static long workerPid() {
        try (var children = ProcessHandle.current().children()) {
            return children.filter(p -> p.info().commandLine().map(c -> c.contains("WorkerMain")).orElse(false))
                    .findFirst().orElseThrow(() -> new AssertionError("the pool's worker JVM is not a child of this JVM")).pid();
        }
    }

    /** @return the value of {@code name} in the environment of the pool's worker JVM (where the pool put it) */
    private static String workerEnvironment(String name) throws IOException {
        String environment = Files.readString(Path.of("/proc/" + workerPid() + "/environ"));
        return java.util.Arrays.stream(environment.split("\0")).filter(e -> e.startsWith(name + "=")).findFirst()
                .orElseThrow(() -> new AssertionError("no " + name + " in the worker's environment")).substring(name.length() + 1);
    }

    /** @param value {@code tcp:127.0.0.1:<port>} or a Unix-domain socket's path */
    private static SocketAddress poolSocket(String value) throws IOException {
        if (!value.startsWith("tcp:")) {
            return UnixDomainSocketAddress.of(value);
        }
        String hostAndPort = value.substring("tcp:".length());
        int colon = hostAndPort.lastIndexOf(':');
        return new InetSocketAddress(InetAddress.getByName(hostAndPort.substring(0, colon)),
                Integer.parseInt(hostAndPort.substring(colon + 1)));
    }

    @AfterProperty
    void poolStillRuns_andNothingIsLeftBehind() {
        assertThat(pool.map(x -> x * 2, List.of(1, 2, 3))).containsExactly(2, 4, 6);
        ProcessResources.awaitBack(ProcessHandle.current().pid(), baseline, FD_SLACK, THREAD_SLACK, n -> false,
                Duration.ofSeconds(60));
    }

    @Provide
    Arbitrary<List<byte[]>> handshakeInput() {
        // noise whose first int would announce a small frame, unknown and known types with random
        // payloads (a HELLO with a wrong key among them), frames cut short, negative lengths
        Arbitrary<byte[]> smallNoise = Combinators2.headed(Arbitraries.integers().between(-5, SAFE_LENGTH),
                FrameFuzz.noise());
        Arbitrary<byte[]> frames = Arbitraries.integers().between(0, 255)
                .flatMap(type -> FrameFuzz.randomPayload(type, SAFE_LENGTH - 1));
        Arbitrary<byte[]> cut = frames.flatMap(FrameFuzz::truncated);
        return Arbitraries.oneOf(smallNoise, frames, cut, FrameFuzz.unknownType(POOL_TYPES)).flatMap(FrameFuzz::chunked);
    }

    @Property
    void hostileBytes_beforeHello_areRefused_andThePoolRunsOn(@ForAll("handshakeInput") List<byte[]> input)
            throws Exception {
        PortFuzzer.Exchange exchange = PortFuzzer.send(socket, input, CLOSE_DEADLINE);
        assertThat(exchange.closedByServer()).as("the pool closed the connection").isTrue();
        assertThat(exchange.received()).as("nothing is sent to a peer that did not prove a key").isEmpty();
    }

    /** Frames whose first four bytes are a chosen length, the rest noise. */
    private static final class Combinators2 {
        static Arbitrary<byte[]> headed(Arbitrary<Integer> lengths, Arbitrary<byte[]> rest) {
            return net.jqwik.api.Combinators.combine(lengths, rest)
                    .as((length, tail) -> ByteBuffer.allocate(4 + tail.length).putInt(length).put(tail).array());
        }
    }

    /**
     * A replayed HELLO is refused: the live worker's own key (read from its environment, where the
     * pool put it) and pid, sent again, find no worker waiting for them, because a key is used once.
     */
    @Example
    void replayedHelloOfALiveWorker_isRefused() throws Exception {
        byte[] key = java.util.HexFormat.of().parseHex(workerEnvironment("MULTIPROC4J_KEY"));
        byte[] hello = ByteBuffer.allocate(4 + key.length + 8).putInt(key.length).put(key).putLong(workerPid()).array();
        PortFuzzer.Exchange exchange = PortFuzzer.send(socket, List.of(FrameFuzz.frame(HELLO, hello)), CLOSE_DEADLINE);
        assertThat(exchange.closedByServer()).as("the pool closed the replayed session").isTrue();
        assertThat(exchange.received()).as("nothing is sent to a replayed HELLO").isEmpty();
        assertThat(pool.stats().workersExitedTotal()).as("the real worker is untouched").isZero();
    }

    /**
     * Before HELLO a peer has proved nothing: a frame longer than a HELLO is refused unread (it once
     * was allocated whole, up to 1 GiB, and the reader thread died of OutOfMemoryError).
     */
    @Example
    void hugeLengthBeforeHello_isRefusedWithoutAllocating() throws Exception {
        for (int length : List.of(1 << 30, (1 << 29) + 7, 300 << 20)) {
            byte[] header = ByteBuffer.allocate(5).putInt(length).put((byte) HELLO).array();
            PortFuzzer.Exchange exchange = PortFuzzer.send(socket, List.of(header), CLOSE_DEADLINE);
            assertThat(exchange.closedByServer()).isTrue();
        }
    }

    /**
     * A peer that connects and sends nothing is disconnected by the handshake deadline (20 s), so it
     * cannot hold a thread and a descriptor of the pool for as long as it likes.
     */
    @Example
    void silentPeer_isDisconnected_byAHandshakeDeadline() throws Exception {
        PortFuzzer.Exchange exchange = PortFuzzer.sendAndHold(socket, List.of(), Duration.ofSeconds(90));
        assertThat(exchange.closedByServer()).isTrue();
    }
}
