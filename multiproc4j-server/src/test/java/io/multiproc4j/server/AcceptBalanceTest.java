package io.multiproc4j.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.multiproc4j.testkit.Conditions;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * With a request limit per worker ({@code threadsPerWorker(1)}, gunicorn's sync worker), connections
 * that queue on the shared listener while every worker is busy are spread over the workers as they
 * free up: a worker takes one connection per free slot. The kernel alone does not spread them: the
 * worker that frees up first finds the whole queue and, its slot looking free until the first
 * request is read, would accept all of it while the other worker is still busy.
 *
 * <p>Held requests ({@link TestApps.Hold}) make every step a condition: which worker's slot a request
 * entered is a file the handler creates, and how many connections wait unaccepted is the kernel's
 * count for the listener; nothing depends on timing.
 */
class AcceptBalanceTest {
    private static final Duration DEADLINE = Duration.ofSeconds(90);
    private static final int QUEUED = 12;

    @Test
    void connectionsQueuedWhileEveryWorkerIsBusy_goToEachWorkerAsItFreesUp() throws Exception {
        Path dir = Files.createTempDirectory("multiproc4j-balance-");
        List<Socket> clients = new ArrayList<>();
        try (Supervisor server = Supervisor.builder().http(TestApps.Hold.class).sharing(PortSharing.SHARED_SOCKET)
                .model(WorkerModel.prefork(2)).threadsPerWorker(1).log(l -> { }).start()) {
            clients.add(send(server.port(), dir, "a"));
            String first = awaitEntered(dir, "a");
            clients.add(send(server.port(), dir, "b"));
            String second = awaitEntered(dir, "b");
            assertThat(second).as("with its one slot busy, a worker leaves the next connection to the other").isNotEqualTo(first);

            // Both slots are busy: these connections queue in the kernel, each with its request written.
            for (int i = 0; i < QUEUED; i++) {
                clients.add(send(server.port(), dir, "c" + i));
            }
            int port = server.port();
            Conditions.await("all " + QUEUED + " connections waiting in the listener's accept queue, since a worker "
                    + "whose one slot is busy accepts none (it holds " + acceptQueue(port) + ")", DEADLINE,
                    () -> acceptQueue(port) == QUEUED);
            release(dir, "a");
            Conditions.await("a queued request entered the first worker", DEADLINE,
                    () -> enteredQueued(dir).stream().anyMatch(e -> e.endsWith("-" + first)));
            // Its slot is busy again: it takes no more (one more at most, should its turn have waited
            // past its bound for that request). Without the turn it had accepted the whole queue by now.
            assertThat(acceptQueue(port)).as("connections left in the accept queue for the other worker")
                    .isGreaterThanOrEqualTo(QUEUED - 2);
            release(dir, "b");
            // The key step: the first worker, busy again, must have left the rest of the queue alone.
            Conditions.await("a queued request entered the second worker once it was free (the first worker "
                    + "took " + enteredQueued(dir) + ")", DEADLINE,
                    () -> enteredQueued(dir).stream().anyMatch(e -> e.endsWith("-" + second)));
            assertThat(enteredQueued(dir)).as("one request in each worker's one slot").hasSize(2);

            for (int i = 0; i < QUEUED; i++) {
                release(dir, "c" + i);
            }
            Set<String> servedBy = new java.util.TreeSet<>();
            for (Socket client : clients) {
                String response = readAll(client);
                assertThat(response).startsWith("HTTP/1.1 200");
                servedBy.add(response.substring(response.indexOf("released in ") + "released in ".length()).strip());
            }
            assertThat(servedBy).containsExactlyInAnyOrder(first, second);
        } finally {
            for (Socket client : clients) {
                client.close();
            }
            try (Stream<Path> files = Files.walk(dir)) {
                for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(p);
                }
            }
        }
    }

    /** Opens a connection and writes a held request on it; the response is read later. */
    private static Socket send(int port, Path dir, String name) throws IOException {
        var socket = new Socket();
        socket.connect(new InetSocketAddress("127.0.0.1", port), 10_000);
        socket.setSoTimeout((int) DEADLINE.toMillis() * 2);
        socket.getOutputStream().write(("GET /?dir=" + dir + "&name=" + name + " HTTP/1.1\r\nHost: balance\r\n"
                + "Connection: close\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
        socket.getOutputStream().flush();
        return socket;
    }

    /** @return the pid of the worker whose handler took the request {@code name} */
    private static String awaitEntered(Path dir, String name) throws IOException {
        String prefix = "entered-" + name + "-";
        Conditions.await("request " + name + " in a handler", DEADLINE, () -> !entered(dir, prefix).isEmpty());
        return entered(dir, prefix).getFirst().substring(prefix.length());
    }

    private static List<String> enteredQueued(Path dir) {
        return entered(dir, "entered-c");
    }

    private static List<String> entered(Path dir, String prefix) {
        try (Stream<Path> files = Files.list(dir)) {
            return files.map(p -> p.getFileName().toString()).filter(n -> n.startsWith(prefix)).sorted()
                    .collect(Collectors.toList());
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /**
     * @return how many connections wait in the accept queue of the listener on {@code port}: the
     *     kernel's count, {@code rx_queue} of a listening socket in {@code /proc/net/tcp}
     */
    private static int acceptQueue(int port) {
        String local = String.format("0100007F:%04X", port);
        try {
            for (String line : Files.readAllLines(Path.of("/proc/net/tcp"))) {
                String[] f = line.trim().split("\\s+");
                if (f.length > 4 && f[1].equals(local) && f[3].equals("0A")) { // 0A: LISTEN
                    return Integer.parseInt(f[4].substring(f[4].indexOf(':') + 1), 16);
                }
            }
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        throw new AssertionError("no listener on 127.0.0.1:" + port + " in /proc/net/tcp");
    }

    private static void release(Path dir, String name) throws IOException {
        Files.createFile(dir.resolve("release-" + name));
    }

    private static String readAll(Socket socket) throws IOException {
        InputStream in = socket.getInputStream();
        return new String(in.readAllBytes(), StandardCharsets.ISO_8859_1);
    }
}
