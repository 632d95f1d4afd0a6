package io.multiproc4j.server;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/** Apps and handlers the tests' worker JVMs run. */
final class TestApps {
    private TestApps() {}

    static final String PID = Long.toString(ProcessHandle.current().pid());

    /**
     * Answers 200 with this worker's pid in X-Worker-Pid. {@code sleep=MS} sleeps first,
     * {@code cpu=MS} spins on the CPU first, {@code max=N} answers 409 when more than N requests were
     * in this handler at once.
     */
    public static final class Hello implements HttpHandler {
        private static final java.util.concurrent.atomic.AtomicInteger CONCURRENT = new java.util.concurrent.atomic.AtomicInteger();

        @Override
        public void handle(HttpExchange exchange) throws IOException {
            int now = CONCURRENT.incrementAndGet();
            try {
                int allowed = Integer.MAX_VALUE;
                String query = exchange.getRequestURI().getQuery();
                for (String param : query == null ? new String[0] : query.split("&")) {
                    long value = Long.parseLong(param.substring(param.indexOf('=') + 1));
                    if (param.startsWith("sleep=")) {
                        try {
                            Thread.sleep(value);
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                        }
                    } else if (param.startsWith("cpu=")) {
                        spin(value);
                    } else if (param.startsWith("max=")) {
                        allowed = (int) value;
                    }
                }
                if (now > allowed) {
                    byte[] body = (now + " requests at once in this worker, more than " + allowed).getBytes(StandardCharsets.UTF_8);
                    exchange.sendResponseHeaders(409, body.length);
                    exchange.getResponseBody().write(body);
                    exchange.close();
                    return;
                }
            } finally {
                CONCURRENT.decrementAndGet();
            }
            byte[] body = ("hello from " + PID + "\n").getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().add("X-Worker-Pid", PID);
            exchange.sendResponseHeaders(200, body.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        }
    }

    static long spin(long millis) {
        long end = System.nanoTime() + millis * 1_000_000;
        long x = 0;
        while (System.nanoTime() < end) {
            x += x * 31 + 7;
        }
        return x;
    }

    /**
     * An app with an accept loop of its own: answers every connection with one HTTP response. As
     * {@link ServerApp} asks, it waits for the connections it handed to other threads before it
     * returns (closing the executor waits for them, also when a stop wakes {@code accept()} with an
     * exception): returning ends the worker's JVM, which would reset a connection still being answered.
     */
    public static final class RawApp implements ServerApp {
        @Override
        public void serve(ServerSocketChannel listener, WorkerContext ctx) throws Exception {
            try (var connections = Executors.newVirtualThreadPerTaskExecutor()) {
                acceptLoop(listener, ctx, connections);
            }
        }

        private static void acceptLoop(ServerSocketChannel listener, WorkerContext ctx, ExecutorService connections)
                throws IOException {
            while (!ctx.isStopping()) {
                SocketChannel c = listener.accept();
                connections.execute(() -> {
                    try (c) {
                        ByteBuffer buf = ByteBuffer.allocate(4096);
                        while (c.read(buf) >= 0) { // read the head: up to the blank line
                            String s = new String(buf.array(), 0, buf.position(), StandardCharsets.ISO_8859_1);
                            if (s.contains("\r\n\r\n")) {
                                break;
                            }
                        }
                        byte[] body = ("raw app " + PID + "\n").getBytes(StandardCharsets.UTF_8);
                        String head = "HTTP/1.1 200 OK\r\nX-Worker-Pid: " + PID + "\r\nContent-Length: " + body.length
                                + "\r\nConnection: close\r\n\r\n";
                        c.write(ByteBuffer.wrap(head.getBytes(StandardCharsets.ISO_8859_1)));
                        c.write(ByteBuffer.wrap(body));
                        ctx.requestServed();
                    } catch (IOException e) {
                        // client gone
                    }
                });
            }
        }
    }

    /**
     * {@code /?dir=D&name=N}: marks its start with a file {@code D/entered-N-PID}, waits until the test
     * creates {@code D/release-N} (at most 120 s), then answers 200 with this worker's pid. The test
     * holds a worker's request slot with it for as long as it needs, and sees which worker took it.
     */
    public static final class Hold implements HttpHandler {
        @Override
        public void handle(HttpExchange exchange) throws IOException {
            String dir = null;
            String name = null;
            for (String param : exchange.getRequestURI().getQuery().split("&")) {
                String value = param.substring(param.indexOf('=') + 1);
                if (param.startsWith("dir=")) {
                    dir = value;
                } else if (param.startsWith("name=")) {
                    name = value;
                }
            }
            java.nio.file.Path d = java.nio.file.Path.of(dir);
            java.nio.file.Files.createFile(d.resolve("entered-" + name + "-" + PID));
            java.nio.file.Path release = d.resolve("release-" + name);
            long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(120);
            while (!java.nio.file.Files.exists(release) && System.nanoTime() < deadline) {
                try {
                    Thread.sleep(5); // the app's own poll of a file: the test waits on conditions
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    break;
                }
            }
            byte[] body = ("released in " + PID + "\n").getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().add("X-Worker-Pid", PID);
            exchange.sendResponseHeaders(200, body.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        }
    }

    /** Throws in its constructor. */
    public static final class Exploding implements HttpHandler {
        public Exploding() {
            throw new IllegalStateException("no database configured");
        }

        @Override
        public void handle(HttpExchange exchange) {
        }
    }

    /** Implements neither interface. */
    public static final class NotAnApp {
    }
}
