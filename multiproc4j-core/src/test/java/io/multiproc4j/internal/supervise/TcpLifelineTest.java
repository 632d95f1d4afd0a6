package io.multiproc4j.internal.supervise;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.multiproc4j.internal.transport.FrameChannel;
import io.multiproc4j.internal.transport.FrameType;
import io.multiproc4j.internal.transport.WorkerLayout;
import io.multiproc4j.internal.transport.WorkerMessage;
import io.multiproc4j.internal.worker.WorkerMain;
import io.multiproc4j.WorkerOutput;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The TCP lifeline's checks, on real sockets and real processes: a supervisor closes a connection
 * of another user that does not carry a waiting child's key without answering it, and answers a
 * child that proved its key with the child's one-time answer; a child that reaches a listener which
 * does not answer with it (another process that took the port) sends nothing more and exits. The
 * other user is real: a Python process run as {@code nobody} through {@code setpriv} (needs root,
 * setpriv and /usr/bin/python3; that test is skipped otherwise).
 */
@Timeout(300)
class TcpLifelineTest {
    private static final int NOBODY = 65534;
    private static final Duration WAIT = Duration.ofSeconds(120);
    private static final String KEY = "ab".repeat(WorkerLayout.KEY_BYTES), ANSWER = "cd".repeat(WorkerLayout.KEY_BYTES);

    /** As nobody: connects to the port in argv[1], sends HELLO with $KEY, prints how much came back before the close. */
    private static final String CONNECT = String.join("\n",
            "import os, socket, struct, sys",
            "s = socket.create_connection(('127.0.0.1', int(sys.argv[1])))",
            "key = bytes.fromhex(os.environ['KEY'])",
            "payload = struct.pack('>i', len(key)) + key + struct.pack('>q', os.getpid())",
            "s.sendall(struct.pack('>i', len(payload) + 1) + bytes([0]) + payload)",
            "s.settimeout(100)",
            "got = b''",
            "try:",
            "    while True:",
            "        b = s.recv(65536)",
            "        if not b: break",
            "        got += b",
            "    print('closed', len(got), flush=True)",
            "except ConnectionResetError:", // closed with our bytes unread: a reset
            "    print('closed', len(got), flush=True)",
            "except socket.timeout:",
            "    print('open', len(got), flush=True)");

    private static int effectiveUid() throws Exception {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("Uid:")) {
                return Integer.parseInt(line.split("\\s+")[2]);
            }
        }
        throw new IllegalStateException("no Uid line in /proc/self/status");
    }

    private static void assumeAnotherUserCanBeRun() throws Exception {
        assumeTrue(effectiveUid() == 0, "only root can run a peer as another user");
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/setpriv")), "setpriv is not installed");
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/python3")), "/usr/bin/python3 is not installed");
    }

    private static Process asNobody(String script, Map<String, String> environment, String... args) throws Exception {
        var command = new java.util.ArrayList<>(List.of("setpriv", "--reuid=" + NOBODY, "--regid=" + NOBODY,
                "--clear-groups", "/usr/bin/python3", "-c", script));
        command.addAll(List.of(args));
        var builder = new ProcessBuilder(command).redirectErrorStream(true);
        builder.environment().putAll(environment);
        return builder.start();
    }

    private static InetSocketAddress loopback(int port) throws Exception {
        return new InetSocketAddress(InetAddress.getByAddress(new byte[] {127, 0, 0, 1}), port);
    }

    @Test
    void aPeerOfAnotherUser_withoutTheKey_isClosedUnanswered_andTheChildsOwnHelloGetsItsAnswer() throws Exception {
        assumeAnotherUserCanBeRun();
        var connected = new LinkedBlockingQueue<WorkerProcess>();
        try (Supervisor supervisor = Supervisor.open(new Supervisor.Listener() {
            @Override
            public void connected(WorkerProcess child, FrameChannel channel) {
                connected.add(child);
            }

            @Override
            public void exited(WorkerProcess child, Supervisor.Exit exit) {
                // the test kills its child itself
            }
        }, Lifeline.TCP)) {
            var spec = WorkerProcess.LaunchSpec.of("idle", IdleChildMain.class, List.of(), WorkerOutput.PREFIXED);
            WorkerProcess child = supervisor.spawn(spec, Duration.ofMinutes(4));
            try {
                var address = (InetSocketAddress) supervisor.address();
                assertThat(address.getAddress().getHostAddress()).as("bound to loopback only").isEqualTo("127.0.0.1");
                byte[] guess = new byte[WorkerLayout.KEY_BYTES];
                new java.util.Random().nextBytes(guess);
                Process stranger = asNobody(CONNECT, Map.of("KEY", HexFormat.of().formatHex(guess)),
                        Integer.toString(address.getPort()));
                assertThat(finish(stranger)).as("the stranger was closed and sent nothing").isEqualTo("closed 0");
                assertThat(connected).as("nobody was told").isEmpty();
                assertThat(child.state()).isEqualTo(WorkerProcess.State.STARTING);

                // the child's own HELLO (played here with its key) connects, and gets its answer first
                try (SocketChannel socket = SocketChannel.open(address)) {
                    var channel = new FrameChannel(socket);
                    new WorkerMessage.Hello(HexFormat.of().parseHex(child.key()), ProcessHandle.current().pid()).write(channel);
                    channel.flush();
                    assertThat(connected.poll(WAIT.toSeconds(), TimeUnit.SECONDS)).as("the key connected").isSameAs(child);
                    assertThat(WorkerMessage.decode(channel.receive())).isInstanceOfSatisfying(WorkerMessage.Hello.class, answer -> {
                        assertThat(answer.key()).as("the child's one-time answer").isEqualTo(child.answer());
                        assertThat(answer.pid()).isEqualTo(ProcessHandle.current().pid());
                    });
                }
            } finally {
                child.kill(ExitCause.KILLED);
                child.process().waitFor(60, TimeUnit.SECONDS);
            }
        }
    }

    /**
     * Plays a process that took the port: it reads the worker's HELLO and answers with anything but
     * the worker's answer, then sends a SETUP; the worker must exit without a READY.
     */
    @Test
    void aWorkerThatReachesAnotherListener_sendsNothingAfterItsHello_andExits_andAnswersItsSupervisorWithReady()
            throws Exception {
        for (boolean honest : List.of(false, true)) {
            try (var server = ServerSocketChannel.open(StandardProtocolFamily.INET)) {
                server.bind(loopback(0));
                int port = ((InetSocketAddress) server.getLocalAddress()).getPort();
                Process worker = startWorker(port);
                try {
                    CompletableFuture<SocketChannel> accepted = CompletableFuture.supplyAsync(() -> {
                        try {
                            return server.accept();
                        } catch (java.io.IOException e) {
                            throw new java.io.UncheckedIOException(e);
                        }
                    });
                    try (SocketChannel socket = accepted.get(WAIT.toSeconds(), TimeUnit.SECONDS)) {
                        var channel = new FrameChannel(socket);
                        assertThat(WorkerMessage.decode(channel.receive())).isInstanceOfSatisfying(WorkerMessage.Hello.class,
                                hello -> assertThat(HexFormat.of().formatHex(hello.key())).isEqualTo(KEY));
                        byte[] answer = HexFormat.of().parseHex(honest ? ANSWER : KEY); // the key is not the answer
                        new WorkerMessage.Hello(answer, ProcessHandle.current().pid()).write(channel);
                        new WorkerMessage.Setup(io.multiproc4j.internal.codec.StandardCodec.class.getName(), "tcp-test",
                                false, 0, null).write(channel);
                        channel.flush();
                        if (honest) {
                            assertThat(channel.receive().code()).as("READY").isEqualTo(FrameType.READY.ordinal());
                        } else {
                            assertThatThrownBy(channel::receive).as("the worker closes without a READY")
                                    .isInstanceOf(java.io.EOFException.class);
                            assertThat(worker.waitFor(WAIT.toSeconds(), TimeUnit.SECONDS)).as("the worker exited").isTrue();
                            String stderr = new String(worker.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
                            assertThat(worker.exitValue()).as(stderr).isNotZero();
                            assertThat(stderr).contains("tcp:127.0.0.1:" + port).contains("did not answer as the supervisor");
                        }
                    }
                } finally {
                    worker.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
                }
            }
        }
    }

    @Test
    void aWorkerWhoseListenerNeverAnswers_exitsAtTheAnswerDeadline_insteadOfWaitingForEver() throws Exception {
        try (var server = ServerSocketChannel.open(StandardProtocolFamily.INET)) {
            server.bind(loopback(0));
            int port = ((InetSocketAddress) server.getLocalAddress()).getPort();
            Process worker = startWorker(port);
            try (SocketChannel socket = server.accept()) {
                var channel = new FrameChannel(socket);
                assertThat(WorkerMessage.decode(channel.receive())).isInstanceOf(WorkerMessage.Hello.class);
                // ... and this listener, like a process that took the port, never answers.
                assertThat(worker.waitFor(SupervisedChild.ANSWER_TIMEOUT.toSeconds() + WAIT.toSeconds(), TimeUnit.SECONDS))
                        .as("the worker exited").isTrue();
                String stderr = new String(worker.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
                assertThat(worker.exitValue()).as(stderr).isNotZero();
                assertThat(stderr).contains("tcp:127.0.0.1:" + port).contains("did not answer within 20 s");
                assertThatThrownBy(channel::receive).as("it sent nothing after its HELLO").isInstanceOf(java.io.EOFException.class);
            } finally {
                worker.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
            }
        }
    }

    @Test
    void aTcpWorkerWithoutAnAnswerInItsEnvironment_refusesToStart() throws Exception {
        var builder = new ProcessBuilder(JvmCommand.forMain(List.of(), WorkerMain.class.getName(), null));
        builder.environment().put(WorkerProcess.ENV_SOCKET, "tcp:127.0.0.1:9"); // never reached
        builder.environment().put(WorkerProcess.ENV_KEY, KEY);
        builder.environment().remove(WorkerProcess.ENV_ANSWER);
        builder.redirectOutput(ProcessBuilder.Redirect.DISCARD);
        Process worker = builder.start();
        try {
            assertThat(worker.waitFor(WAIT.toSeconds(), TimeUnit.SECONDS)).isTrue();
            String stderr = new String(worker.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(worker.exitValue()).as(stderr).isEqualTo(2);
            assertThat(stderr).contains(WorkerProcess.ENV_ANSWER);
        } finally {
            worker.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
        }
    }

    private static Process startWorker(int port) throws Exception {
        var builder = new ProcessBuilder(JvmCommand.forMain(List.of(), WorkerMain.class.getName(), null));
        builder.environment().put(WorkerProcess.ENV_SOCKET, "tcp:127.0.0.1:" + port);
        builder.environment().put(WorkerProcess.ENV_KEY, KEY);
        builder.environment().put(WorkerProcess.ENV_ANSWER, ANSWER);
        builder.redirectOutput(ProcessBuilder.Redirect.DISCARD);
        return builder.start();
    }

    /** @return the last line the helper printed, once it exited */
    private static String finish(Process process) throws Exception {
        return lastLine(new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8)), process);
    }

    private static String lastLine(BufferedReader output, Process process) throws Exception {
        try {
            String last = "";
            for (String line = output.readLine(); line != null; line = output.readLine()) {
                last = line.trim();
            }
            assertThat(process.waitFor(60, TimeUnit.SECONDS)).as("the helper exited").isTrue();
            return last;
        } finally {
            process.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
        }
    }
}
