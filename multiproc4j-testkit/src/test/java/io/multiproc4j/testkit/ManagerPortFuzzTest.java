package io.multiproc4j.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import io.multiproc4j.internal.manager.ManagerLayout;
import io.multiproc4j.manager.Manager;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnixDomainSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentMap;
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
 * Fuzzes a manager's Unix-domain and TCP endpoints (served in this JVM, so that its descriptors
 * and threads are this process's): noise, hostile lengths, unknown types, truncated and replayed
 * sessions, wrong keys, and payload classes outside the allowlist, before and after authentication.
 *
 * <p>Each try must end in a refusal (the server closes the connection), nothing may be deserialized
 * before authentication ({@link Tripwire}), no uncaught exception may escape a manager thread, and
 * an honest client is served after every try. After each property this JVM's descriptors and
 * threads are back at their baseline. Tries: {@code jqwik.tries.default} (CI: a few hundred per
 * property; the {@code stress} profile runs many more, see CONTRIBUTING.md).
 */
class ManagerPortFuzzTest {
    private static final Set<Integer> MANAGER_TYPES = Set.of((int) ManagerLayout.CHALLENGE, (int) ManagerLayout.RESPONSE,
            (int) ManagerLayout.WELCOME, (int) ManagerLayout.REFUSED, (int) ManagerLayout.CALL,
            (int) ManagerLayout.CANCEL, (int) ManagerLayout.REPLY, (int) ManagerLayout.CAPABILITY);
    private static final Duration CLOSE_DEADLINE = Duration.ofSeconds(30);
    /**
     * Slack over the baseline: the JVM adds JIT compiler threads on demand and the virtual-thread
     * scheduler adds carriers up to the number of cores; neither grows with connections. A leak of
     * ours grows with the tries (hundreds), far past this.
     */
    private static final int THREAD_SLACK = 4, FD_SLACK = 2;

    private static Path directory;
    private static byte[] key;
    private static Manager unix;
    private static Manager tcp;
    private static Manager honestUnix;
    private static Manager honestTcp;
    private static ProcessResources.Snapshot baseline;
    private static final List<String> uncaught = Collections.synchronizedList(new ArrayList<>());
    private static Thread.UncaughtExceptionHandler previousHandler;
    /** Thousands of refusals would each log a WARNING line: kept quiet here, restored after. */
    private static final java.util.logging.Logger MANAGER_LOG = java.util.logging.Logger.getLogger("io.multiproc4j.manager");
    private static java.util.logging.Level previousLevel;

    @BeforeContainer
    static void serve() throws Exception {
        previousLevel = MANAGER_LOG.getLevel();
        MANAGER_LOG.setLevel(java.util.logging.Level.SEVERE);
        previousHandler = Thread.getDefaultUncaughtExceptionHandler();
        Thread.setDefaultUncaughtExceptionHandler((thread, e) -> uncaught.add(thread.getName() + ": " + e));
        directory = Files.createTempDirectory("mp4j-fuzz-");
        key = new byte[32];
        new SecureRandom().nextBytes(key);
        unix = Manager.builder().allowClasses(Tripwire.class)
                .serve(UnixDomainSocketAddress.of(directory.resolve("m.sock")), key);
        tcp = Manager.builder().allowClasses(Tripwire.class)
                .serve(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), key);
        honestUnix = Manager.connect(unix.address(), key);
        honestTcp = Manager.connect(tcp.address(), key);
        honest(true);
        honest(false);
        // warm up the paths a try takes (class loading, the virtual-thread scheduler), then measure
        for (int i = 0; i < 20; i++) {
            PortFuzzer.send(address(i % 2 == 0), List.of(new byte[] {1, 2, 3}), CLOSE_DEADLINE);
            try (var client = new RawManagerClient(address(i % 2 == 0))) {
                client.authenticate(key);
            }
        }
        baseline = settle();
    }

    @AfterContainer
    static void stop() throws Exception {
        for (Manager m : new Manager[] {honestUnix, honestTcp, unix, tcp}) {
            if (m != null) {
                m.close();
            }
        }
        Thread.setDefaultUncaughtExceptionHandler(previousHandler);
        MANAGER_LOG.setLevel(previousLevel);
        if (directory != null) {
            Files.deleteIfExists(directory.resolve("m.sock"));
            Files.deleteIfExists(directory);
        }
    }

    /** Waits for connection threads of the warm-up to finish, then takes the baseline. */
    private static ProcessResources.Snapshot settle() {
        var first = ProcessResources.self();
        return ProcessResources.awaitBack(ProcessHandle.current().pid(), first, 0, 0, n -> false, Duration.ofSeconds(5))
                .equals(first) ? first : ProcessResources.self();
    }

    private static SocketAddress address(boolean overUnix) {
        return overUnix ? unix.address() : tcp.address();
    }

    /** An honest client, on its existing connection, is still served. */
    private static void honest(boolean overUnix) {
        ConcurrentMap<String, Integer> map = (overUnix ? honestUnix : honestTcp).map("honest");
        int next = map.merge("calls", 1, Integer::sum);
        assertThat(map.get("calls")).isGreaterThanOrEqualTo(next);
    }

    @AfterProperty
    void endpointsServeFreshClients_andNothingIsLeftBehind() throws Exception {
        for (boolean overUnix : new boolean[] {true, false}) {
            try (Manager fresh = Manager.connect(address(overUnix), key)) {
                assertThat(fresh.<String, Integer>map("honest").get("calls")).isPositive();
            }
        }
        ProcessResources.awaitBack(ProcessHandle.current().pid(), baseline, FD_SLACK, THREAD_SLACK, n -> false,
                Duration.ofSeconds(60));
        List<String> escaped;
        synchronized (uncaught) {
            escaped = List.copyOf(uncaught);
            uncaught.clear();  // one failing property must not fail the next ones
        }
        assertThat(escaped).as("uncaught exceptions in manager threads").isEmpty();
        assertThat(Tripwire.Forbidden.READS.get()).as("a class outside the allowlist was deserialized").isZero();
    }

    // ---------------------------------------------------------------- before authentication

    @Provide
    Arbitrary<List<byte[]>> preAuthenticationInput() {
        return FrameFuzz.anyHostileInput(MANAGER_TYPES, ManagerLayout.HANDSHAKE_LIMIT);
    }

    @Property
    void hostileBytes_beforeAuthentication_areRefused(@ForAll("preAuthenticationInput") List<byte[]> input,
            @ForAll boolean overUnix) throws Exception {
        int reads = Tripwire.READS.get();
        PortFuzzer.Exchange exchange = PortFuzzer.send(address(overUnix), input, CLOSE_DEADLINE);
        assertThat(exchange.closedByServer()).as("the manager closed the connection").isTrue();
        assertOnlyHandshakeFrames(exchange.received());
        assertThat(Tripwire.READS.get()).isEqualTo(reads);
        honest(overUnix);
    }

    /** The server says CHALLENGE and possibly REFUSED; never a REPLY or WELCOME to a stranger. */
    private static void assertOnlyHandshakeFrames(byte[] received) {
        var in = java.nio.ByteBuffer.wrap(received);
        while (in.remaining() >= 5) {
            int length = in.getInt();
            int type = in.get();
            assertThat(type).as("frame type sent to an unauthenticated peer")
                    .isIn((int) ManagerLayout.CHALLENGE, (int) ManagerLayout.REFUSED);
            in.position(Math.min(in.limit(), in.position() + length - 1));
        }
    }

    @Property
    void wrongKey_isRefused(@ForAll("keys") byte[] wrong, @ForAll boolean overUnix) throws Exception {
        try (var client = new RawManagerClient(address(overUnix))) {
            RawManagerClient.Frame answer = client.authenticate(wrong);
            assertThat(answer.type()).isEqualTo(ManagerLayout.REFUSED);
            assertThat(new String(answer.payload(), java.nio.charset.StandardCharsets.UTF_8)).contains("key");
            assertThat(client.sendAndAwaitClose(List.of(), CLOSE_DEADLINE)).isTrue();
        }
        honest(overUnix);
    }

    @Provide
    Arbitrary<byte[]> keys() {
        return Arbitraries.bytes().array(byte[].class).ofMinSize(16).ofMaxSize(64)
                .filter(k -> !java.util.Arrays.equals(k, key));
    }

    /** A recorded valid session (handshake, then a call) is refused when replayed, whole or cut. */
    @Property
    void replayedSession_isRefused(@ForAll boolean overUnix, @ForAll("cuts") int cut) throws Exception {
        byte[] recording;
        try (var client = new RawManagerClient(address(overUnix))) {
            assertThat(client.authenticate(key).type()).isEqualTo(ManagerLayout.WELCOME);
            client.write(RawManagerClient.call(1, "$manager", "", "$ping", RawManagerClient.jdkArgs()));
            assertThat(client.read(CLOSE_DEADLINE).type()).isEqualTo(ManagerLayout.REPLY);
            recording = client.recording();
        }
        byte[] replay = java.util.Arrays.copyOf(recording, Math.max(1, recording.length * cut / 100));
        PortFuzzer.Exchange exchange = PortFuzzer.send(address(overUnix), List.of(replay), CLOSE_DEADLINE);
        assertThat(exchange.closedByServer()).isTrue();
        assertOnlyHandshakeFrames(exchange.received());
        honest(overUnix);
    }

    @Provide
    Arbitrary<Integer> cuts() {
        return Arbitraries.integers().between(1, 100);
    }

    /** A CALL that would deserialize an allowed class, sent before authentication, is never read. */
    @Property
    void callBeforeAuthentication_deserializesNothing(@ForAll boolean overUnix, @ForAll("notes") String note,
            @ForAll("preambles") int preamble) throws Exception {
        int reads = Tripwire.READS.get();
        byte[] call = RawManagerClient.call(7, "MAP", "fuzz", "put(java.lang.Object,java.lang.Object)",
                RawManagerClient.jdkArgs("k", new Tripwire(note)));
        // as the first frame, as a RESPONSE-typed frame, or after a wrong-key response
        byte[] first = switch (preamble) {
            case 0 -> call;
            case 1 -> FrameFuzz.frame(ManagerLayout.RESPONSE, java.util.Arrays.copyOfRange(call, 5, call.length));
            default -> concat(FrameFuzz.frame(ManagerLayout.RESPONSE, new byte[64]), call);
        };
        PortFuzzer.Exchange exchange = PortFuzzer.send(address(overUnix), List.of(first), CLOSE_DEADLINE);
        assertThat(exchange.closedByServer()).isTrue();
        assertOnlyHandshakeFrames(exchange.received());
        assertThat(Tripwire.READS.get()).as("deserializations before authentication").isEqualTo(reads);
    }

    @Provide
    Arbitrary<String> notes() {
        return Arbitraries.strings().ofMaxLength(40);
    }

    @Provide
    Arbitrary<Integer> preambles() {
        return Arbitraries.integers().between(0, 2);
    }

    /** The positive control of the tripwire: after authentication, an allowed class is deserialized. */
    @Example
    void callAfterAuthentication_deserializesAnAllowedClass() throws Exception {
        honestUnix.map("fuzz");
        int reads = Tripwire.READS.get();
        try (var client = new RawManagerClient(address(true))) {
            assertThat(client.authenticate(key).type()).isEqualTo(ManagerLayout.WELCOME);
            client.write(RawManagerClient.call(7, "MAP", "fuzz", "put(java.lang.Object,java.lang.Object)",
                    RawManagerClient.jdkArgs("k", new Tripwire("allowed"))));
            RawManagerClient.Frame reply = client.read(CLOSE_DEADLINE);
            assertThat(reply.type()).isEqualTo(ManagerLayout.REPLY);
            assertThat(reply.payload()[8]).as("reply status").isEqualTo(ManagerLayout.STATUS_VALUE);
        }
        assertThat(Tripwire.READS.get()).isEqualTo(reads + 1);
    }

    // ---------------------------------------------------------------- after authentication

    @Provide
    Arbitrary<List<byte[]>> postAuthenticationInput() {
        Arbitrary<byte[]> calls = Arbitraries.bytes().array(byte[].class).ofMaxSize(600)
                .map(p -> FrameFuzz.frame(ManagerLayout.CALL, p));
        Arbitrary<byte[]> cancels = Arbitraries.bytes().array(byte[].class).ofMaxSize(16)
                .map(p -> FrameFuzz.frame(ManagerLayout.CANCEL, p));
        Arbitrary<byte[]> callsWithHostileArgLength = Arbitraries.of(Integer.MAX_VALUE, Integer.MIN_VALUE, -1, 1 << 30)
                .map(length -> {
                    try {
                        byte[] call = RawManagerClient.call(3, "MAP", "fuzz", "size()", new byte[] {1, 0});
                        // the int that announces the argument bytes sits 2 + 4 bytes before the frame's end
                        java.nio.ByteBuffer.wrap(call).putInt(call.length - 6, length);
                        return call;
                    } catch (java.io.IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                });
        return Arbitraries.oneOf(calls, cancels, callsWithHostileArgLength,
                FrameFuzz.hostileLength(ManagerLayout.DEFAULT_MAX_FRAME), FrameFuzz.unknownType(MANAGER_TYPES),
                FrameFuzz.noise()).list().ofMinSize(1).ofMaxSize(4)
                .map(frames -> frames.stream().reduce(new byte[0], ManagerPortFuzzTest::concat))
                .flatMap(FrameFuzz::chunked);
    }

    @Property
    void hostileFrames_afterAuthentication_closeOnlyThatConnection(@ForAll("postAuthenticationInput") List<byte[]> input,
            @ForAll boolean overUnix) throws Exception {
        honestUnix.map("fuzz");
        try (var client = new RawManagerClient(address(overUnix))) {
            assertThat(client.authenticate(key).type()).isEqualTo(ManagerLayout.WELCOME);
            assertThat(client.sendAndAwaitClose(input, CLOSE_DEADLINE)).as("the manager closed the connection").isTrue();
        }
        honest(overUnix);
    }

    /** A class outside the allowlist is refused with the fix, and never instantiated, wherever it nests. */
    @Property
    void payloadOutsideTheAllowlist_isRefusedBeforeItIsRead(@ForAll("nestings") int nesting, @ForAll boolean overUnix)
            throws Exception {
        honestUnix.map("fuzz");
        Object forbidden = new Tripwire.Forbidden();
        Object value = switch (nesting) {
            case 0 -> forbidden;
            case 1 -> new ArrayList<>(List.of("a", forbidden));
            case 2 -> new java.util.HashMap<>(Map.of("k", forbidden));
            case 3 -> new Object[] {1, new Object[] {forbidden}};
            default -> new java.util.concurrent.ConcurrentHashMap<>(Map.of(forbidden.hashCode(), List.of(forbidden)));
        };
        try (var client = new RawManagerClient(address(overUnix))) {
            assertThat(client.authenticate(key).type()).isEqualTo(ManagerLayout.WELCOME);
            client.write(RawManagerClient.call(9, "MAP", "fuzz", "put(java.lang.Object,java.lang.Object)",
                    RawManagerClient.jdkArgs("k", value)));
            RawManagerClient.Frame reply = client.read(CLOSE_DEADLINE);
            assertThat(reply.type()).isEqualTo(ManagerLayout.REPLY);
            assertThat(reply.payload()[8]).as("reply status").isEqualTo(ManagerLayout.STATUS_REFUSED);
            assertThat(new String(reply.payload(), 9, reply.payload().length - 9, java.nio.charset.StandardCharsets.UTF_8))
                    .contains(Tripwire.Forbidden.class.getName()).contains("allowPackages");
        }
        assertThat(Tripwire.Forbidden.READS.get()).isZero();
    }

    @Provide
    Arbitrary<Integer> nestings() {
        return Arbitraries.integers().between(0, 4);
    }

    /** A peer that connects and stays silent is dropped by the handshake deadline (10 s), not held. */
    @Example
    void silentPeer_isDisconnected_byTheHandshakeDeadline() throws Exception {
        PortFuzzer.Exchange exchange = PortFuzzer.sendAndHold(address(false), List.of(), Duration.ofSeconds(60));
        assertThat(exchange.closedByServer()).isTrue();
        assertOnlyHandshakeFrames(exchange.received());
    }

    /**
     * A flood of silent connections costs the manager a bounded number of threads (the handshake
     * bound, 64), those already authenticated are served throughout, and once the flood is dropped
     * new clients are served again.
     */
    @Example
    void floodOfSilentConnections_boundsThreads_andAuthenticatedClientsAreServedThroughout() throws Exception {
        int flood = 150;
        // connected before the flood (an earlier property's Manager.close() closed this JVM's shared connection)
        honest(false);
        honest(true);
        var holders = new ArrayList<java.util.concurrent.Future<PortFuzzer.Exchange>>();
        try (var executor = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor()) {
            for (int i = 0; i < flood; i++) {
                holders.add(executor.submit(() -> PortFuzzer.sendAndHold(address(false), List.of(), Duration.ofSeconds(60))));
            }
            // the flood is in place once the manager holds (nearly) as many handshakes as it allows
            Conditions.await("the silent peers are connected", Duration.ofSeconds(30),
                    () -> ProcessResources.self().threads() >= baseline.threads() + 60);
            int peak = 0;
            for (int i = 0; i < 50; i++) {
                honest(false);  // on its existing connection
                honest(true);
                peak = Math.max(peak, ProcessResources.self().threads());
            }
            for (var holder : holders) {
                assertThat(holder.get(120, java.util.concurrent.TimeUnit.SECONDS).closedByServer())
                        .as("every silent connection is closed by the manager").isTrue();
            }
            assertThat(peak).as("threads while " + flood + " silent peers were connected")
                    .isLessThanOrEqualTo(baseline.threads() + 64 + THREAD_SLACK + 2);
        }
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] both = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, both, a.length, b.length);
        return both;
    }
}
