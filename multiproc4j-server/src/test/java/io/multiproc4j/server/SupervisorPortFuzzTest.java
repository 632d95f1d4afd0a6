package io.multiproc4j.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.multiproc4j.testkit.Conditions;
import io.multiproc4j.testkit.FrameFuzz;
import io.multiproc4j.testkit.PortFuzzer;
import io.multiproc4j.testkit.ProcessResources;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
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
 * Fuzzes the HTTP port of a running supervisor in the SHARED_SOCKET model (a worker JVM parses the
 * requests) and in the ACCEPTOR model (this JVM, the supervisor, parses them): noise, truncated
 * requests, absurd Content-Length values, header lines past the head limit, silent and dripping
 * connections; the supervisor's descriptor socket ({@code fds.sock} in its private directory)
 * with lines that name no worker; and the port its workers connected to (core supervision's
 * lifeline, here the loopback TCP one, {@code -Dmultiproc4j.lifeline=tcp}) with frames from a peer
 * that has no worker's key.
 *
 * <p>Each try must end in a refusal (a 4xx answer, or a close); no worker may crash (the same worker
 * pids serve throughout); honest requests succeed after every try and during the silent flood; and
 * this JVM's descriptors and threads come back to their baseline after each property.
 */
class SupervisorPortFuzzTest {
    /** Core supervision's choice of socket family (internal.supervise.Lifeline). */
    private static final String LIFELINE = "multiproc4j.lifeline";
    private static final List<PortSharing> MODELS = List.of(PortSharing.SHARED_SOCKET, PortSharing.ACCEPTOR);
    private static final Duration CLOSE_DEADLINE = Duration.ofSeconds(30);
    /** JIT compiler threads and virtual-thread carriers come on demand; neither grows with connections. */
    private static final int THREAD_SLACK = 4, FD_SLACK = 3;
    private static final byte[] HONEST = ("GET /?n=1 HTTP/1.1\r\nHost: fuzz\r\nConnection: close\r\n\r\n")
            .getBytes(StandardCharsets.ISO_8859_1);
    private static final byte[] POST = ("POST /upload HTTP/1.1\r\nHost: fuzz\r\nContent-Length: 11\r\n\r\nhello world")
            .getBytes(StandardCharsets.ISO_8859_1);

    private static final Map<PortSharing, Supervisor> servers = new EnumMap<>(PortSharing.class);
    private static final Map<PortSharing, Set<Long>> pids = new EnumMap<>(PortSharing.class);
    private static ProcessResources.Snapshot baseline;

    @BeforeContainer
    static void start() throws Exception {
        String lifeline = System.getProperty(LIFELINE);
        System.setProperty(LIFELINE, "tcp"); // read when each supervisor opens: its workers' lifelines are TCP
        try {
            for (PortSharing model : MODELS) {
                Supervisor server = Supervisor.builder().http(TestApps.Hello.class).sharing(model)
                        .model(WorkerModel.prefork(2)).threadsPerWorker(4).log(l -> { }).start();
                servers.put(model, server);
            }
        } finally {
            if (lifeline == null) {
                System.clearProperty(LIFELINE);
            } else {
                System.setProperty(LIFELINE, lifeline);
            }
        }
        for (PortSharing model : MODELS) {
            Conditions.await(model + " workers ready", Duration.ofSeconds(120), () -> servers.get(model).workers().stream()
                    .filter(w -> w.state() == WorkerInfo.State.READY).count() == 2);
            pids.put(model, workerPids(model));
        }
        // warm up every path a try takes (class loading, the virtual-thread scheduler), then measure
        for (int i = 0; i < 20; i++) {
            for (PortSharing model : MODELS) {
                honest(model);
                PortFuzzer.send(address(model), List.of(new byte[] {1, 2, 3}), CLOSE_DEADLINE);
                PortFuzzer.send(address(model), List.of("GET / HTTP/1.1\r\nContent-Length: -1\r\n\r\n".getBytes(
                        StandardCharsets.ISO_8859_1)), CLOSE_DEADLINE);
            }
        }
        startVirtualThreadPoller();
        baseline = settle();
    }

    /**
     * Starts the JDK's poller for virtual threads' sockets, made on first use with descriptors and
     * threads of its own, so that the baseline holds it: the stalled-connections example's virtual
     * threads would start it otherwise, after the baseline (the ACCEPTOR supervisor, which used to
     * start it during the warm-up, serves its clients from a selector now).
     */
    private static void startVirtualThreadPoller() throws Exception {
        try (var listener = new java.net.ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            Thread accepting = Thread.ofVirtual().start(() -> {
                try (var accepted = listener.accept()) {
                    accepted.getInputStream().read(); // the peer closes at once
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            // a virtual thread parked in accept has registered with the poller
            Conditions.await("a virtual thread parked in accept", Duration.ofSeconds(60),
                    () -> accepting.getState() == Thread.State.WAITING);
            new java.net.Socket(InetAddress.getLoopbackAddress(), listener.getLocalPort()).close();
            accepting.join();
        }
    }

    @AfterContainer
    static void stop() {
        for (Supervisor server : servers.values()) {
            server.close();
        }
        servers.clear();
    }

    private static ProcessResources.Snapshot settle() {
        var first = ProcessResources.self();
        return ProcessResources.awaitBack(ProcessHandle.current().pid(), first, 0, 0, n -> false, Duration.ofSeconds(5))
                .equals(first) ? first : ProcessResources.self();
    }

    private static Set<Long> workerPids(PortSharing model) {
        return servers.get(model).workers().stream().map(WorkerInfo::pid).collect(Collectors.toSet());
    }

    private static InetSocketAddress address(PortSharing model) {
        return new InetSocketAddress(InetAddress.getLoopbackAddress(), servers.get(model).port());
    }

    /** An honest request is answered 200 by a worker. */
    private static void honest(PortSharing model) throws IOException {
        PortFuzzer.Exchange exchange = PortFuzzer.send(address(model), List.of(HONEST), CLOSE_DEADLINE);
        String answer = new String(exchange.received(), StandardCharsets.ISO_8859_1);
        assertThat(answer).as(model + " answer to an honest request").startsWith("HTTP/1.1 200").contains("hello from");
    }

    @AfterProperty
    void honestRequestsSucceed_noWorkerCrashed_andNothingIsLeftBehind() throws IOException {
        for (PortSharing model : MODELS) {
            honest(model);
            assertThat(workerPids(model)).as(model + " workers (a crash would replace one)").isEqualTo(pids.get(model));
        }
        ProcessResources.awaitBack(ProcessHandle.current().pid(), baseline, FD_SLACK, THREAD_SLACK, n -> false,
                Duration.ofSeconds(60));
    }

    @Provide
    Arbitrary<PortSharing> models() {
        return Arbitraries.of(MODELS);
    }

    /** @return the status of the first response in {@code received}, or 0 when there is none */
    private static int status(byte[] received) {
        String text = new String(received, StandardCharsets.ISO_8859_1);
        if (!text.startsWith("HTTP/1.")) {
            return 0;
        }
        return Integer.parseInt(text.substring(9, 12));
    }

    // ---------------------------------------------------------------- hostile requests

    @Provide
    Arbitrary<List<byte[]>> hostileBytes() {
        Arbitrary<byte[]> requestLike = Arbitraries.strings().withChars("GETPOST /?=&HTP1.0\r\n:").ofMaxLength(200)
                .map(s -> s.getBytes(StandardCharsets.ISO_8859_1));
        return Arbitraries.oneOf(FrameFuzz.noise(), requestLike, FrameFuzz.truncated(POST), FrameFuzz.truncated(HONEST))
                .flatMap(FrameFuzz::chunked);
    }

    @Property
    void hostileBytes_areRefusedOrClosed(@ForAll("hostileBytes") List<byte[]> input, @ForAll("models") PortSharing model)
            throws IOException {
        PortFuzzer.Exchange exchange = PortFuzzer.send(address(model), input, CLOSE_DEADLINE);
        assertThat(exchange.closedByServer()).as("the server closed the connection").isTrue();
        int status = status(exchange.received());
        assertThat(status == 0 || (status >= 400 && status < 500)).as("answered " + status).isTrue();
    }

    @Provide
    Arbitrary<String> contentLengths() {
        return Arbitraries.of("2147483647", "-1", "-2147483648", "9223372036854775807", "9223372036854775808",
                "16777217", "99999999999999999999", "abc", "5, 5", "0x10", "");
    }

    @Property(tries = 40)
    void absurdContentLength_isRefused(@ForAll("contentLengths") String length, @ForAll("models") PortSharing model)
            throws IOException {
        byte[] request = ("POST / HTTP/1.1\r\nHost: fuzz\r\nContent-Length: " + length + "\r\n\r\nxyz")
                .getBytes(StandardCharsets.ISO_8859_1);
        PortFuzzer.Exchange exchange = PortFuzzer.sendAndHold(address(model), List.of(request), CLOSE_DEADLINE);
        // every number here is negative or above the body limit (413); anything else is malformed (400)
        assertThat(status(exchange.received())).as(model + " answer to Content-Length: " + length)
                .isEqualTo(isLong(length) ? 413 : 400);
        assertThat(exchange.closedByServer()).as("the server closed the connection").isTrue();
    }

    private static boolean isLong(String text) {
        try {
            Long.parseLong(text);
            return true;
        } catch (NumberFormatException e) {
            return false;
        }
    }

    @Property(tries = 10)
    void headerLongerThanTheHeadLimit_isRefused(@ForAll("models") PortSharing model, @ForAll boolean inTheRequestLine)
            throws IOException {
        String filler = "a".repeat(70 * 1024);
        byte[] request = (inTheRequestLine ? "GET /" + filler + " HTTP/1.1\r\n\r\n"
                : "GET / HTTP/1.1\r\nX-Long: " + filler + "\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1);
        PortFuzzer.Exchange exchange = PortFuzzer.sendAndHold(address(model), List.of(request), CLOSE_DEADLINE);
        assertThat(status(exchange.received())).as(model + " answer").isEqualTo(431);
        assertThat(exchange.closedByServer()).isTrue();
    }

    @Property(tries = 10)
    void manyHeaderLines_pastTheHeadLimit_areRefused(@ForAll("models") PortSharing model) throws IOException {
        var request = new StringBuilder("GET / HTTP/1.1\r\n");
        for (int i = 0; i < 5_000; i++) {
            request.append("X-H").append(i).append(": ").append("v".repeat(20)).append("\r\n");
        }
        request.append("\r\n");
        PortFuzzer.Exchange exchange = PortFuzzer.sendAndHold(address(model),
                List.of(request.toString().getBytes(StandardCharsets.ISO_8859_1)), CLOSE_DEADLINE);
        assertThat(status(exchange.received())).as(model + " answer").isEqualTo(431);
        assertThat(exchange.closedByServer()).isTrue();
    }

    /**
     * Silent connections and connections that stop mid-head are closed by the server (the workers'
     * keep-alive read timeout, 5 s), and honest requests are served while they are open.
     */
    @Example
    void silentAndStalledConnections_areClosed_andHonestRequestsAreServedMeanwhile() throws Exception {
        int flood = 30;
        for (PortSharing model : MODELS) {
            var holders = new ArrayList<Future<PortFuzzer.Exchange>>();
            try (var executor = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor()) {
                for (int i = 0; i < flood; i++) {
                    List<byte[]> what = i % 2 == 0 ? List.of() : List.of("GET / HTTP/1.1\r\nHost: sl".getBytes(
                            StandardCharsets.ISO_8859_1));
                    holders.add(executor.submit(() -> PortFuzzer.sendAndHold(address(model), what, Duration.ofSeconds(60))));
                }
                for (int i = 0; i < 10; i++) {
                    honest(model);
                }
                for (var holder : holders) {
                    assertThat(holder.get(120, TimeUnit.SECONDS).closedByServer()).as(model + ": a silent connection is closed by the server")
                            .isTrue();
                }
            }
        }
    }

    // ---------------------------------------------------------------- the lifeline port

    /** @return the value of {@code name} in a worker's environment, where supervision put it */
    private static String workerEnvironment(PortSharing model, String name) throws IOException {
        long pid = pids.get(model).iterator().next();
        String environment = Files.readString(Path.of("/proc/" + pid + "/environ"));
        return java.util.Arrays.stream(environment.split("\0")).filter(e -> e.startsWith(name + "=")).findFirst()
                .orElseThrow(() -> new AssertionError("no " + name + " in the worker's environment")).substring(name.length() + 1);
    }

    /** The loopback port the model's workers connected to, from a worker's environment. */
    private static InetSocketAddress lifeline(PortSharing model) throws IOException {
        String value = workerEnvironment(model, "MULTIPROC4J_SOCKET");
        assertThat(value).as("the lifeline is a loopback TCP port").startsWith("tcp:127.0.0.1:");
        return new InetSocketAddress(InetAddress.getByAddress(new byte[] {127, 0, 0, 1}),
                Integer.parseInt(value.substring(value.lastIndexOf(':') + 1)));
    }

    @Provide
    Arbitrary<List<byte[]>> lifelineInput() {
        // noise, frames of any type with random payloads (a HELLO with a wrong key among them), frames cut short
        Arbitrary<byte[]> frames = Arbitraries.integers().between(0, 255).flatMap(type -> FrameFuzz.randomPayload(type, 1023));
        return Arbitraries.oneOf(FrameFuzz.noise(), frames, frames.flatMap(FrameFuzz::truncated)).flatMap(FrameFuzz::chunked);
    }

    /** A peer without a worker's key is closed and sent nothing; the workers and their lifelines are untouched. */
    @Property(tries = 100)
    void hostileFrames_onTheLifelinePort_areClosedUnanswered(@ForAll("lifelineInput") List<byte[]> input,
            @ForAll("models") PortSharing model) throws IOException {
        PortFuzzer.Exchange exchange = PortFuzzer.send(lifeline(model), input, CLOSE_DEADLINE);
        assertThat(exchange.closedByServer()).as("the supervisor closed the connection").isTrue();
        assertThat(exchange.received()).as("nothing is sent to a peer that did not prove a key").isEmpty();
    }

    /**
     * A live worker's own HELLO (its key, read from its environment), sent again, is refused: a key is
     * used once, so it finds no worker waiting, and nothing (no answer) is sent back.
     */
    @Example
    void aReplayedHelloOfALiveWorker_onTheLifelinePort_isRefused() throws IOException {
        for (PortSharing model : MODELS) {
            byte[] key = java.util.HexFormat.of().parseHex(workerEnvironment(model, "MULTIPROC4J_KEY"));
            byte[] hello = java.nio.ByteBuffer.allocate(4 + key.length + 8).putInt(key.length).put(key)
                    .putLong(pids.get(model).iterator().next()).array();
            PortFuzzer.Exchange exchange = PortFuzzer.sendAndHold(lifeline(model), List.of(FrameFuzz.frame(0, hello)),
                    CLOSE_DEADLINE);
            assertThat(exchange.closedByServer()).as(model + ": the replayed session is closed").isTrue();
            assertThat(exchange.received()).as(model + ": nothing is sent to a replayed HELLO").isEmpty();
        }
    }

    // ---------------------------------------------------------------- the descriptor socket

    private static Path fdSocket() throws IOException {
        String prefix = "multiproc4j-server-" + ProcessHandle.current().pid() + "-";
        try (DirectoryStream<Path> dirs = Files.newDirectoryStream(Path.of(System.getProperty("java.io.tmpdir")), prefix + "*")) {
            for (Path dir : dirs) {
                if (Files.exists(dir.resolve("fds.sock"))) {
                    return dir.resolve("fds.sock");
                }
            }
        }
        throw new AssertionError("no fds.sock under a " + prefix + "* directory");
    }

    @Provide
    Arbitrary<byte[]> strangerLines() {
        Arbitrary<byte[]> wrongTokens = Arbitraries.strings().alpha().numeric().ofMinLength(1).ofMaxLength(64)
                .map(token -> ("worker-1 " + token + "\n").getBytes(StandardCharsets.UTF_8));
        Arbitrary<byte[]> noiseLines = FrameFuzz.noise().map(n -> {
            byte[] line = java.util.Arrays.copyOf(n, n.length + 1);
            line[n.length] = '\n';
            return line;
        });
        return Arbitraries.oneOf(wrongTokens, noiseLines, FrameFuzz.noise());
    }

    /** A line that names no worker with its token is refused ('N', no descriptor) and the socket is closed. */
    @Property(tries = 100)
    void descriptorSocket_refusesStrangers(@ForAll("strangerLines") byte[] line) throws IOException {
        PortFuzzer.Exchange exchange = PortFuzzer.send(java.net.UnixDomainSocketAddress.of(fdSocket()), List.of(line),
                CLOSE_DEADLINE);
        assertThat(exchange.closedByServer()).isTrue();
        assertThat(new String(exchange.received(), StandardCharsets.ISO_8859_1)).isIn("", "N");
    }

    /**
     * The descriptor socket answers one peer at a time on one thread: a peer of this user that
     * connects and stays silent is dropped after its 2 s deadline, so workers started after it (a
     * reload here) still get their listener, and the graceful stop afterwards ends. Its own
     * supervisor, so that the shared ones are not blocked. (It once blocked that thread for as long
     * as the peer stayed; then the reload, run here on the common pool, waited for ever for the old
     * worker's exit, whose report supervision queued on that same pool.)
     */
    @Example
    void silentPeerOnTheDescriptorSocket_doesNotBlockAReload() throws Exception {
        Set<Path> before = fdSockets();
        Supervisor server = Supervisor.builder().http(TestApps.Hello.class).sharing(PortSharing.SHARED_SOCKET)
                .model(WorkerModel.prefork(1)).log(l -> { }).start();
        try {
            Set<Path> mine = fdSockets();
            mine.removeAll(before);
            assertThat(mine).as("this supervisor's fds.sock").hasSize(1);
            long old = server.workers().getFirst().pid();
            try (var silent = java.nio.channels.SocketChannel.open(java.net.UnixDomainSocketAddress.of(mine.iterator().next()))) {
                var reload = java.util.concurrent.CompletableFuture.runAsync(server::reload);
                reload.get(120, TimeUnit.SECONDS);
                assertThat(silent.isOpen()).isTrue();
            }
            assertThat(server.workers()).extracting(WorkerInfo::pid).doesNotContain(old);
            // and the graceful stop afterwards ends (it once waited for a worker's exit for ever)
            var close = java.util.concurrent.CompletableFuture.runAsync(server::close);
            close.get(120, TimeUnit.SECONDS);
        } finally {
            server.shutdownNow(); // a no-op after close
        }
    }

    /** @return the fds.sock of every supervisor of this JVM now */
    private static Set<Path> fdSockets() throws IOException {
        String prefix = "multiproc4j-server-" + ProcessHandle.current().pid() + "-";
        Set<Path> sockets = new java.util.HashSet<>();
        try (DirectoryStream<Path> dirs = Files.newDirectoryStream(Path.of(System.getProperty("java.io.tmpdir")), prefix + "*")) {
            for (Path dir : dirs) {
                if (Files.exists(dir.resolve("fds.sock"))) {
                    sockets.add(dir.resolve("fds.sock"));
                }
            }
        }
        return sockets;
    }
}
