package io.multiproc4j.cluster.internal;

import static org.assertj.core.api.Assertions.assertThat;

import com.hazelcast.client.HazelcastClient;
import com.hazelcast.cluster.Member;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.core.IExecutorService;
import io.multiproc4j.SerializableFunction;
import io.multiproc4j.cluster.ClusterPool;
import io.multiproc4j.cluster.LocalCluster;
import io.multiproc4j.spi.Codec;
import io.multiproc4j.testkit.FrameFuzz;
import io.multiproc4j.testkit.PortFuzzer;
import io.multiproc4j.testkit.ProcessResources;
import java.io.ByteArrayInputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
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
import outsidetheallowlist.Marker;

/**
 * Fuzzes the member port of a one-member local cluster (a member JVM started as the module's own
 * tests start them: a unique cluster name, a free loopback port): noise, hostile lengths and
 * Hazelcast protocol headers with garbage behind them at the raw port; a client whose key differs;
 * and, through an honest Hazelcast connection, the envelopes that reach our code: tasks whose MAC is
 * missing, cut, flipped, made for another purpose or with another key, signed tasks whose payload is
 * malformed, and signed tasks naming a class outside the deserialization allowlist.
 *
 * <p>Each try must end in a refusal (the member closes the raw connection, or answers a signed
 * REFUSED or FAILED reply naming the cause); nothing of ours is deserialized in the member before its
 * MAC checked out nor outside the allowlist (the marker classes create a file when deserialized); the
 * member's descriptors and threads come back to their baseline; and a pool still maps correctly on it.
 */
class ClusterMemberPortFuzzTest {
    private static final Duration CLOSE_DEADLINE = Duration.ofSeconds(30);
    /**
     * Member JVM slack: Hazelcast starts some threads lazily (a partition operation thread, a
     * scheduled task, JIT compiler threads) and keeps a few descriptors (a client connection being
     * torn down, a jar read once); none of these grows with the tries, a leak of ours would by hundreds.
     */
    private static final int THREAD_SLACK = 8, FD_SLACK = 6;
    private static final Codec CODEC = Codec.standard();
    private static final AtomicInteger MARKS = new AtomicInteger();

    private static LocalCluster cluster;
    private static LocalCluster.LocalMember member;
    private static Keys keys;
    private static HazelcastInstance client;
    private static IExecutorService executor;
    private static Member target;
    private static ClusterPool pool;
    private static Path marks;
    private static ProcessResources.Snapshot baseline;

    @BeforeContainer
    static void start() throws Exception {
        marks = Files.createTempDirectory("mp4j-cluster-fuzz-");
        cluster = LocalCluster.start(1, 1);
        member = cluster.members().get(0);
        keys = new Keys(cluster.config().authKey());
        client = HazelcastClient.newHazelcastClient(HazelcastSettings.client(keys.clusterName(cluster.config().clusterName()),
                List.of(member.address()), 60_000));
        executor = client.getExecutorService(HazelcastSettings.EXECUTOR);
        target = client.getCluster().getMembers().iterator().next();
        pool = ClusterPool.connect(cluster.config());
        // warm up every path a try takes in the member (class loading, Hazelcast's lazy threads), then measure
        for (int i = 0; i < 30; i++) {
            PortFuzzer.send(memberAddress(), List.of(new byte[] {'C', 'P', '2', 1, 2, 3}), CLOSE_DEADLINE);
            submit(new Wire.ChunkTask(payload(List.of(i), ""), new byte[Keys.MAC_BYTES]));
            submit(signed(payload(List.of(i), "")));
            honest();
        }
        baseline = ProcessResources.snapshot(member.pid(), n -> false);
    }

    @AfterContainer
    static void stop() throws Exception {
        try {
            if (pool != null) {
                pool.close();
            }
            if (client != null) {
                client.shutdown();
            }
        } finally {
            if (cluster != null) {
                cluster.close();
            }
            if (marks != null) {
                try (var files = Files.list(marks)) {
                    for (Path f : files.toList()) {
                        Files.deleteIfExists(f);
                    }
                }
                Files.deleteIfExists(marks);
            }
        }
    }

    private static InetSocketAddress memberAddress() {
        String a = member.address();
        int colon = a.lastIndexOf(':');
        return new InetSocketAddress(a.substring(0, colon), Integer.parseInt(a.substring(colon + 1)));
    }

    /** A pool on the member maps correctly. */
    private static void honest() {
        List<Integer> inputs = IntStream.range(0, 20).boxed().toList();
        SerializableFunction<Integer, Integer> square = x -> x * x;
        assertThat(pool.<Integer, Integer>map(square, inputs)).isEqualTo(inputs.stream().map(x -> x * x).toList());
    }

    @AfterProperty
    void memberServesHonestClients_andHoldsNoMoreThanItsBaseline() throws Exception {
        assertThat(member.process().isAlive()).as("the member JVM is alive").isTrue();
        honest();
        ProcessResources.awaitBack(member.pid(), baseline, FD_SLACK, THREAD_SLACK, n -> false, Duration.ofSeconds(60));
        try (var left = Files.list(marks)) {
            assertThat(left.toList()).as("classes the member deserialized where it must not").isEmpty();
        }
    }

    // ---------------------------------------------------------------- envelopes

    private static SerializableFunction<Object, Object> identity() {
        return x -> x;
    }

    /**
     * A well-formed task payload: a fresh nonce, issued now, first index 0, no timeout, the packages,
     * the function, the inputs.
     */
    private static byte[] payload(List<?> inputs, String packages) throws IOException {
        return payload(packages, CODEC.encode(identity()), CODEC.encode(new ArrayList<>(inputs)));
    }

    private static byte[] payload(String packages, byte[] function, byte[] inputs) throws IOException {
        return payload(new SecureRandom().nextLong(), System.currentTimeMillis(), packages, function, inputs);
    }

    private static byte[] payload(long nonce, long issuedAt, String packages, byte[] function, byte[] inputs)
            throws IOException {
        var out = new Wire.Out();
        out.writeLong(nonce);
        out.writeLong(issuedAt);
        out.writeLong(0);
        out.writeLong(0);
        out.writeUTF(packages);
        Wire.writeBytes(out, function);
        Wire.writeBytes(out, inputs);
        return out.toByteArray();
    }

    private static Wire.ChunkTask signed(byte[] payload) {
        return new Wire.ChunkTask(payload, keys.mac("task", payload));
    }

    /** What a member answered, its MAC checked. */
    private record Reply(long nonce, byte status, DataInputStream body) {}

    private static Reply submit(Wire.ChunkTask task) throws Exception {
        Wire.ChunkReply reply = executor.submitToMember(task, target).get(60, TimeUnit.SECONDS);
        assertThat(Keys.same(keys.mac("result", reply.payload), reply.mac)).as("the reply is signed with the key").isTrue();
        var in = new DataInputStream(new ByteArrayInputStream(reply.payload));
        long nonce = in.readLong();
        byte status = in.readByte();
        in.readUTF();
        in.readLong();
        return new Reply(nonce, status, in);
    }

    private static long nonceOf(byte[] payload) {
        return payload.length >= 8 ? java.nio.ByteBuffer.wrap(payload).getLong() : 0;
    }

    private static Path newMark() {
        return marks.resolve("mark-" + MARKS.incrementAndGet());
    }

    // ---------------------------------------------------------------- the raw port

    @Provide
    Arbitrary<List<byte[]>> rawInput() {
        // no header, a member's, a client's, a text protocol's, then noise or a hostile length
        Arbitrary<byte[]> headers = Arbitraries.of(new byte[0], "HZC".getBytes(StandardCharsets.US_ASCII),
                "CP2".getBytes(StandardCharsets.US_ASCII), "GET / HTTP/1.1\r\n".getBytes(StandardCharsets.US_ASCII));
        Arbitrary<byte[]> bodies = Arbitraries.oneOf(FrameFuzz.noise(), FrameFuzz.hostileLength(1 << 20),
                // a client-protocol frame header (little-endian length, flags) announcing a hostile length
                Arbitraries.of(FrameFuzz.HOSTILE_LENGTHS).map(n -> java.nio.ByteBuffer.allocate(6)
                        .order(java.nio.ByteOrder.LITTLE_ENDIAN).putInt(n).putShort((short) 0xc000).array()));
        return net.jqwik.api.Combinators.combine(headers, bodies).as(ClusterMemberPortFuzzTest::concat)
                .flatMap(FrameFuzz::chunked);
    }

    @Property
    void hostileBytes_atTheMemberPort_areClosed(@ForAll("rawInput") List<byte[]> input) throws Exception {
        PortFuzzer.Exchange exchange = PortFuzzer.send(memberAddress(), input, CLOSE_DEADLINE);
        assertThat(exchange.connected()).isTrue();
        assertThat(exchange.closedByServer()).as("the member closed the connection").isTrue();
    }

    @Example
    void silentPeers_areHeldAtMostUntilClosed_andCostTheMemberNoThreads() throws Exception {
        var holders = new ArrayList<java.util.concurrent.Future<PortFuzzer.Exchange>>();
        try (var executor = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor()) {
            for (int i = 0; i < 50; i++) {
                holders.add(executor.submit(() -> PortFuzzer.sendAndHold(memberAddress(), List.of("CP2".getBytes(
                        StandardCharsets.US_ASCII)), Duration.ofSeconds(3))));
            }
            for (var h : holders) {
                h.get(60, TimeUnit.SECONDS);
            }
            // while they are (or were just) open, the member's threads did not grow with them
            assertThat(ProcessResources.snapshot(member.pid(), n -> false).threads())
                    .isLessThanOrEqualTo(baseline.threads() + THREAD_SLACK);
            honest();
        }
    }

    /** A client whose key differs derives another Hazelcast cluster name: the member does not let it in. */
    @Example
    void clientWithAnotherKey_isNotAdmitted() {
        byte[] other = new byte[32];
        new SecureRandom().nextBytes(other);
        String name = new Keys(other).clusterName(cluster.config().clusterName());
        var config = HazelcastSettings.client(name, List.of(member.address()), 3_000);
        Throwable failure = null;
        HazelcastInstance intruder = null;
        try {
            intruder = HazelcastClient.newHazelcastClient(config);
        } catch (RuntimeException e) {
            failure = e;
        } finally {
            if (intruder != null) {
                intruder.shutdown();
            }
        }
        assertThat(failure).as("the client with another key could not connect").isNotNull();
    }

    // ---------------------------------------------------------------- tasks that reach our code

    @Provide
    Arbitrary<Integer> macFaults() {
        return Arbitraries.integers().between(0, 6);
    }

    /** A task whose MAC does not check out is refused, signed, for its nonce; nothing of it is decoded. */
    @Property
    void taskWithAWrongOrMissingMac_isRefused_andNothingOfItIsDecoded(@ForAll("macFaults") int fault,
            @ForAll("flips") int flip) throws Exception {
        Path mark = newMark();
        byte[] payload = payload(List.of(new AllowedMarker(mark)), "");
        byte[] good = keys.mac("task", payload);
        byte[] other = new byte[32];
        new SecureRandom().nextBytes(other);
        byte[] mac = switch (fault) {
            case 0 -> null;
            case 1 -> new byte[0];
            case 2 -> Arrays.copyOf(good, flip % Keys.MAC_BYTES);  // cut
            case 3 -> {
                byte[] m = good.clone();
                m[flip % m.length] ^= (byte) (1 << (flip % 8));  // one bit flipped
                yield m;
            }
            case 4 -> keys.mac("result", payload);  // a MAC made for a result
            case 5 -> new Keys(other).mac("task", payload);  // another key
            default -> concat(good, new byte[] {(byte) flip});  // too long
        };
        Reply reply = submit(new Wire.ChunkTask(payload, mac));
        assertThat(reply.status()).isEqualTo(Wire.REFUSED);
        assertThat(reply.nonce()).isEqualTo(nonceOf(payload));
        assertThat(reply.body().readUTF()).contains("MAC did not check out");
        assertThat(mark).as("deserialized before its MAC checked out").doesNotExist();
    }

    @Provide
    Arbitrary<Integer> flips() {
        return Arbitraries.integers().between(0, 255);
    }

    /** A task whose payload was modified after it was signed is refused. */
    @Property
    void taskModifiedAfterSigning_isRefused(@ForAll("flips") int at, @ForAll("flips") int bit) throws Exception {
        Path mark = newMark();
        byte[] payload = payload(List.of(new AllowedMarker(mark)), "");
        byte[] mac = keys.mac("task", payload);
        byte[] changed = payload.clone();
        changed[8 + at % (changed.length - 8)] ^= (byte) (1 << (bit % 8));  // after the nonce, so the reply names it
        Reply reply = submit(new Wire.ChunkTask(changed, mac));
        assertThat(reply.status()).isEqualTo(Wire.REFUSED);
        assertThat(mark).doesNotExist();
    }

    @Provide
    Arbitrary<byte[]> signedGarbage() {
        Arbitrary<byte[]> fieldsWithHostileLengths = Combinators3.lengths().map(lengths -> {
            try {
                var out = new Wire.Out();
                out.writeLong(new SecureRandom().nextLong());
                out.writeLong(System.currentTimeMillis());
                out.writeLong(0);
                out.writeLong(0);
                out.writeUTF("");
                out.writeInt(lengths[0]);
                out.write(new byte[Math.max(0, Math.min(64, lengths[0]))]);
                out.writeInt(lengths[1]);
                return out.toByteArray();
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        // noise as the function's codec bytes, but not as the codec's array and list tags: those trust
        // their length (see the disabled reproducer signedTaskWithAHugeCodecLength_failsWithoutExhaustingTheHeap)
        Arbitrary<byte[]> noiseAsCodec = FrameFuzz.noise().filter(noise -> noise.length == 0
                || !TRUSTED_LENGTH_TAGS.contains((int) noise[0])).map(noise -> {
            try {
                return payload("", noise, CODEC.encode(new ArrayList<>(List.of(1))));
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        Arbitrary<byte[]> notAList = Arbitraries.of("a string", 42, Map.of("k", "v")).map(value -> {
            try {
                return payload("", CODEC.encode(identity()), CODEC.encode(value));
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        return Arbitraries.oneOf(FrameFuzz.noise(), fieldsWithHostileLengths, noiseAsCodec, notAList);
    }

    /** Tags of core's StandardCodec that allocate the length they read (int[], long[], double[], lists). */
    private static final java.util.Set<Integer> TRUSTED_LENGTH_TAGS = java.util.Set.of(10, 11, 12, 14, 15, 16, 18, 19, 20);

    /**
     * A signed task whose function bytes are an int[] tag and a length of 2^31 - 16 gets a FAILED
     * reply naming the malformed payload: core's {@code StandardCodec} checks a length against the
     * bytes left before it allocates (it once allocated 8 GiB and the member's executor thread died
     * of OutOfMemoryError). Only a key holder can send it, so this is robustness, not security.
     */
    @Example
    void signedTaskWithAHugeCodecLength_failsWithoutExhaustingTheHeap() throws Exception {
        byte[] hugeInts = java.nio.ByteBuffer.allocate(5).put((byte) 10).putInt(Integer.MAX_VALUE - 16).array();
        Reply reply = submit(signed(payload("", hugeInts, CODEC.encode(new ArrayList<>(List.of(1))))));
        assertThat(reply.status()).isEqualTo(Wire.FAILED);
        assertThat(failure(reply)).hasMessageContaining("could not decode the task");
    }

    /** Lengths a payload field may announce: negative, past the payload's end, huge. */
    private static final class Combinators3 {
        static Arbitrary<int[]> lengths() {
            Arbitrary<Integer> one = Arbitraries.oneOf(Arbitraries.of(FrameFuzz.HOSTILE_LENGTHS),
                    Arbitraries.integers().between(-10, 200));
            return net.jqwik.api.Combinators.combine(one, one).as((a, b) -> new int[] {a, b});
        }
    }

    /**
     * A correctly signed payload that is malformed is answered (REFUSED, FAILED, or STALE when noise
     * parses as a header with a random issue time), never run, never crashes the member.
     */
    @Property
    void signedMalformedPayload_isAnsweredWithItsCause(@ForAll("signedGarbage") byte[] payload) throws Exception {
        Reply reply = submit(signed(payload));
        assertThat(reply.status()).isIn(Wire.REFUSED, Wire.FAILED, Wire.STALE);
        if (reply.status() == Wire.REFUSED) {
            assertThat(reply.body().readUTF()).contains("malformed task payload");
        } else if (reply.status() == Wire.STALE) {
            reply.body().readLong();
            assertThat(reply.body().readUTF()).contains("replay window");
        } else {
            assertThat(failure(reply)).hasMessageContaining("could not decode the task");
        }
    }

    private static Throwable failure(Reply reply) throws Exception {
        DataInputStream body = reply.body();
        body.readInt();
        Wire.readBytes(body);
        return (Throwable) CODEC.decode(Wire.readBytes(body));
    }

    @Provide
    Arbitrary<Integer> nestings() {
        return Arbitraries.integers().between(0, 4);
    }

    /** A signed task naming a class outside the allowlist fails with the fix, and the class is never instantiated. */
    @Property(tries = 25)
    void signedTaskOutsideTheAllowlist_failsWithTheFix_andIsNeverDeserialized(@ForAll("nestings") int nesting,
            @ForAll boolean asFunctionArgument) throws Exception {
        Path mark = newMark();
        Object forbidden = new Marker(mark);
        Object value = switch (nesting) {
            case 0 -> forbidden;
            case 1 -> new ArrayList<>(List.of("a", forbidden));
            case 2 -> new HashMap<>(Map.of("k", forbidden));
            case 3 -> new Object[] {1, new Object[] {forbidden}};
            default -> new java.util.concurrent.ConcurrentHashMap<>(Map.of(1, List.of(forbidden)));
        };
        byte[] payload = asFunctionArgument
                ? payload(List.of(value), "")
                : payload("", CODEC.encode(new HoldingFunction(value)), CODEC.encode(new ArrayList<>(List.of(1))));
        Reply reply = submit(signed(payload));
        assertThat(reply.status()).isEqualTo(Wire.FAILED);
        assertThat(failure(reply)).hasMessageContaining("allowlist").hasMessageContaining("allowPackages");
        assertThat(mark).as("a class outside the allowlist was deserialized").doesNotExist();
    }

    /** A function whose state holds {@code value}, so that decoding the function decodes it. */
    private record HoldingFunction(Object value) implements SerializableFunction<Object, Object> {
        @Override
        public Object apply(Object x) {
            return x;
        }
    }

    /** The positive control of the marker: allowed by the task's packages, the member deserializes it. */
    @Example
    void markerAllowedByTheTask_isDeserialized() throws Exception {
        Path mark = newMark();
        Reply reply = submit(signed(payload(List.of(new Marker(mark)), "outsidetheallowlist")));
        assertThat(reply.status()).isEqualTo(Wire.OK);
        assertThat(mark).exists();
        Files.delete(mark);
    }

    /**
     * A signed task recorded on the wire and sent again is refused, and not run again: the member
     * keeps the nonces it accepted ({@link ReplayGuard}); the replay's reply says why.
     */
    @Example
    void replayedSignedTask_isRefused_andNotRunAgain() throws Exception {
        Path mark = newMark();
        Wire.ChunkTask recorded = signed(payload(List.of(new AllowedMarker(mark)), ""));
        assertThat(submit(recorded).status()).isEqualTo(Wire.OK);
        assertThat(mark).as("the original ran").exists();
        Files.delete(mark);
        Reply replay = submit(new Wire.ChunkTask(recorded.payload.clone(), recorded.mac.clone()));
        assertThat(replay.status()).as("a task already run, sent again").isEqualTo(Wire.REFUSED);
        assertThat(replay.body().readUTF()).contains("already accepted").contains("not run again");
        assertThat(mark).as("the replay was decoded or run").doesNotExist();
    }

    /**
     * A signed task issued outside the member's replay window (an old recording, replayed after its
     * nonces could have been forgotten) is answered STALE with the member's time, and not decoded.
     */
    @Property(tries = 10)
    void signedTaskIssuedOutsideTheReplayWindow_isStale_andNotDecoded(@ForAll boolean past) throws Exception {
        Path mark = newMark();
        long now = System.currentTimeMillis();
        long issuedAt = past ? now - ReplayGuard.WINDOW_MILLIS - 60_000 : now + ReplayGuard.SKEW_MILLIS + 60_000;
        Reply reply = submit(signed(payload(new SecureRandom().nextLong(), issuedAt, "",
                CODEC.encode(identity()), CODEC.encode(new ArrayList<>(List.of(new AllowedMarker(mark)))))));
        assertThat(reply.status()).isEqualTo(Wire.STALE);
        long memberNow = reply.body().readLong();
        assertThat(memberNow).as("the member's time").isBetween(now - 60_000, now + 60_000 + 120_000);
        assertThat(reply.body().readUTF()).contains("replay window");
        assertThat(mark).as("deserialized although stale").doesNotExist();
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] both = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, both, a.length, b.length);
        return both;
    }
}
