package io.multiproc4j.internal.supervise;

import static org.assertj.core.api.Assertions.assertThat;
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
 * The TCP lifeline's checks, on real sockets and real processes: {@code /proc/net/tcp} names the
 * owner of both ends of a loopback connection ({@link LoopbackOwners}); a supervisor closes a
 * connection from another user unread even when it carries a waiting child's key; and a child
 * refuses a listener of another user without sending it its key. The other user is real: a Python
 * process run as {@code nobody} through {@code setpriv} (needs root, setpriv and /usr/bin/python3;
 * those tests are skipped otherwise).
 */
@Timeout(300)
class TcpLifelineTest {
    private static final int NOBODY = 65534;
    private static final Duration WAIT = Duration.ofSeconds(120);

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

    /** As nobody: listens on 127.0.0.1, prints its port, accepts one peer and prints what it sent at EOF. */
    private static final String LISTEN = String.join("\n",
            "import socket",
            "l = socket.socket(); l.bind(('127.0.0.1', 0)); l.listen(1)",
            "print(l.getsockname()[1], flush=True)",
            "c, _ = l.accept(); c.settimeout(100)",
            "got = b''",
            "try:",
            "    while True:",
            "        b = c.recv(65536)",
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
    void procNetTcp_namesThisUser_atBothEndsOfALoopbackConnection_forIpv4AndDualStackPeers() throws Exception {
        int uid = effectiveUid();
        InetSocketAddress address;
        try (var server = ServerSocketChannel.open(StandardProtocolFamily.INET)) {
            server.bind(loopback(0));
            address = (InetSocketAddress) server.getLocalAddress();
            // the second client is the JDK's default: an IPv6 socket where the system has IPv6 (tcp6, v4-mapped)
            try (var v4 = SocketChannel.open(StandardProtocolFamily.INET); var dual = SocketChannel.open()) {
                v4.connect(address);
                dual.connect(address);
                try (SocketChannel first = server.accept(); SocketChannel second = server.accept()) {
                    LoopbackOwners owners = LoopbackOwners.snapshot();
                    assertThat(owners).as("this system lists its TCP sockets in /proc/net/tcp").isNotNull();
                    assertThat(owners.listenerOf(address)).as("the listener's owner").isEqualTo(uid);
                    for (SocketChannel accepted : List.of(first, second)) {
                        var local = (InetSocketAddress) accepted.getLocalAddress();
                        var remote = (InetSocketAddress) accepted.getRemoteAddress();
                        assertThat(owners.ownerOf(local, remote)).as("the accepted socket " + local + " ← " + remote).isEqualTo(uid);
                        assertThat(owners.ownerOf(remote, local)).as("the connecting socket " + remote + " → " + local).isEqualTo(uid);
                    }
                    assertThat(owners.ownerOf(loopback(1), address)).as("a connection that does not exist").isEqualTo(-1);
                }
            }
        }
        assertThat(LoopbackOwners.snapshot().listenerOf(address)).as("a closed listener").isEqualTo(-1);
    }

    @Test
    void aPeerOfAnotherUser_isClosedUnread_evenWithAWaitingChildsKey_andTheSameHelloOfOurUserConnects() throws Exception {
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
                int port = ((InetSocketAddress) supervisor.address()).getPort();
                Process stranger = asNobody(CONNECT, Map.of("KEY", child.key()), Integer.toString(port));
                String answer = finish(stranger);
                assertThat(answer).as("the stranger was closed and sent nothing").isEqualTo("closed 0");
                assertThat(connected).as("nobody was told").isEmpty();
                assertThat(child.state()).isEqualTo(WorkerProcess.State.STARTING);

                // the same HELLO from this user is taken: the key was still waiting, so the refusal was the user's
                try (SocketChannel socket = SocketChannel.open(supervisor.address())) {
                    var channel = new FrameChannel(socket);
                    new WorkerMessage.Hello(HexFormat.of().parseHex(child.key()), ProcessHandle.current().pid()).write(channel);
                    channel.flush();
                    assertThat(connected.poll(WAIT.toSeconds(), TimeUnit.SECONDS)).as("the key connected").isSameAs(child);
                }
            } finally {
                child.kill(ExitCause.KILLED);
                child.process().waitFor(60, TimeUnit.SECONDS);
            }
        }
    }

    @Test
    void aChildRefusesAListenerOfAnotherUser_withoutSendingItsKey_andSendsItToOneOfItsOwnUser() throws Exception {
        assumeAnotherUserCanBeRun();
        Process listener = asNobody(LISTEN, Map.of());
        Process worker = null;
        try {
            var lines = new BufferedReader(new InputStreamReader(listener.getInputStream(), StandardCharsets.UTF_8));
            int port = Integer.parseInt(lines.readLine().trim());
            worker = startWorker(port);
            assertThat(worker.waitFor(WAIT.toSeconds(), TimeUnit.SECONDS)).as("the worker gave up").isTrue();
            String stderr = new String(worker.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(worker.exitValue()).as(stderr).isNotZero();
            assertThat(stderr).contains("127.0.0.1:" + port).contains("belongs to uid " + NOBODY);
            assertThat(lastLine(lines, listener)).as("what the other user's listener received").isEqualTo("closed 0");
        } finally {
            listener.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
            if (worker != null) {
                worker.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
            }
        }

        // the same worker sends its HELLO to a listener of this user
        try (var server = ServerSocketChannel.open(StandardProtocolFamily.INET)) {
            server.bind(loopback(0));
            worker = startWorker(((InetSocketAddress) server.getLocalAddress()).getPort());
            try {
                CompletableFuture<SocketChannel> accepted = CompletableFuture.supplyAsync(() -> {
                    try {
                        return server.accept();
                    } catch (java.io.IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                });
                try (SocketChannel socket = accepted.get(WAIT.toSeconds(), TimeUnit.SECONDS)) {
                    var frame = new FrameChannel(socket).receive();
                    assertThat(frame.code()).isEqualTo(FrameType.HELLO.ordinal());
                    assertThat(WorkerMessage.decode(frame)).isInstanceOfSatisfying(WorkerMessage.Hello.class,
                            hello -> assertThat(HexFormat.of().formatHex(hello.key())).isEqualTo("ab".repeat(WorkerLayout.KEY_BYTES)));
                }
            } finally {
                worker.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
            }
        }
    }

    private static Process startWorker(int port) throws Exception {
        var builder = new ProcessBuilder(JvmCommand.forMain(List.of(), WorkerMain.class.getName(), null));
        builder.environment().put(WorkerProcess.ENV_SOCKET, "tcp:127.0.0.1:" + port);
        builder.environment().put(WorkerProcess.ENV_KEY, "ab".repeat(WorkerLayout.KEY_BYTES));
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
