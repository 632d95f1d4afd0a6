package io.multiproc4j.server;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import io.multiproc4j.WorkerOutput;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.stream.Stream;

/**
 * The child JVM of {@link ServerAotCacheTest}, run from jars: a supervisor of one worker; prints the
 * worker's {@code -XX:AOTCache=} option (or {@code none}) and its {@code java.vm.info}, waits until
 * the cache directory holds the expected number of caches (the trainer this start set off), reloads,
 * and prints the same of the new worker.
 *
 * <p>Arguments: the number of caches to wait for.
 */
public final class ServerAotProbe {
    private ServerAotProbe() {}

    /** Answers with its JVM's {@code java.vm.info}: "sharing" in it when a CDS or AOT cache is mapped. */
    public static final class VmInfo implements HttpHandler {
        /** Constructed by the worker. */
        public VmInfo() {}

        @Override
        public void handle(HttpExchange exchange) throws IOException {
            byte[] body = System.getProperty("java.vm.info", "").getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(200, body.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        }
    }

    /**
     * @param args the number of caches to wait for
     * @throws Exception when the supervisor fails: the test shows the output
     */
    public static void main(String[] args) throws Exception {
        int caches = Integer.parseInt(args[0]);
        Path dir = Path.of(System.getProperty("multiproc4j.aot.dir"));
        try (Supervisor server = Supervisor.builder().http(VmInfo.class).sharing(PortSharing.SHARED_SOCKET)
                .model(WorkerModel.prefork(1)).workerOutput(WorkerOutput.DISCARD).log(l -> { }).start()) {
            report("first", server);
            long deadline = System.nanoTime() + 240_000_000_000L;
            while (countCaches(dir) < caches) {
                if (System.nanoTime() > deadline) {
                    System.out.println("no cache after 240 s");
                    System.exit(3);
                }
                Thread.sleep(200); // polling a file another JVM writes: there is nothing to wait on
            }
            server.reload();
            report("second", server);
        }
    }

    private static void report(String which, Supervisor server) throws Exception {
        long pid = server.workers().getFirst().pid();
        String cmdline = Files.readString(Path.of("/proc", Long.toString(pid), "cmdline"), StandardCharsets.UTF_8);
        String aot = Arrays.stream(cmdline.split("\0")).filter(a -> a.startsWith("-XX:AOTCache="))
                .map(a -> a.substring("-XX:AOTCache=".length())).findFirst().orElse("none");
        String vm = get(server.port());
        System.out.println(which + "-aot " + aot);
        System.out.println(which + "-vm " + vm);
    }

    /** @return the body of {@code GET /} on a connection of its own */
    private static String get(int port) throws IOException {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress("127.0.0.1", port), 30_000);
            socket.setSoTimeout(60_000);
            socket.getOutputStream().write("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
                    .getBytes(StandardCharsets.US_ASCII));
            String response = new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!response.startsWith("HTTP/1.1 200")) {
                throw new IOException("not a 200: " + response);
            }
            return response.substring(response.indexOf("\r\n\r\n") + 4);
        }
    }

    private static long countCaches(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            return 0;
        }
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(p -> p.getFileName().toString().endsWith(".aot")).count();
        }
    }
}
