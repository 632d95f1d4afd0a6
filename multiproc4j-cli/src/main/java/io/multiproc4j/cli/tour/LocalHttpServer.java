package io.multiproc4j.cli.tour;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.HttpURLConnection;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * The tour's own web server on 127.0.0.1 (a free port), standing in for a slow remote service: a
 * {@code GET /doc?i=N&ms=D&bytes=B} answers after D milliseconds with B bytes of text. Each request
 * waits on its own virtual thread, so any number can wait at once, as they would on a real network.
 */
final class LocalHttpServer implements AutoCloseable {
    private final HttpServer server;
    private final ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor();

    LocalHttpServer() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 512);
        server.createContext("/doc", exchange -> {
            try (exchange) {
                String q = exchange.getRequestURI().getQuery();
                int ms = param(q, "ms", 10);
                int bytes = param(q, "bytes", 1_000);
                int i = param(q, "i", 0);
                try {
                    Thread.sleep(ms); // the service's latency: what the client's thread waits for
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                StringBuilder body = new StringBuilder(bytes);
                while (body.length() < bytes) {
                    body.append("document ").append(i).append(' ');
                }
                byte[] out = body.substring(0, bytes).getBytes(StandardCharsets.UTF_8);
                exchange.sendResponseHeaders(200, out.length);
                try (OutputStream os = exchange.getResponseBody()) {
                    os.write(out);
                }
            }
        });
        server.setExecutor(threads);
        server.start();
    }

    /**
     * @param i     which document
     * @param ms    how long the server waits before answering
     * @param bytes how big the answer is
     * @return its address
     */
    URI uri(int i, int ms, int bytes) {
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/doc?i=" + i + "&ms=" + ms
                + "&bytes=" + bytes);
    }

    /** The asynchronous client, built on first use: a worker JVM that only calls {@link #fetch} never builds one. */
    private static final class AsyncClient {
        static final HttpClient CLIENT = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(10)).build();
    }

    /** @return the {@code HttpClient} shared by the tour's asynchronous requests (one per JVM) */
    static HttpClient client() {
        return AsyncClient.CLIENT;
    }

    /**
     * A blocking GET, as a task on any thread or worker process does it, with the JDK's classic
     * blocking client ({@code HttpURLConnection}): building an {@code HttpClient} costs a fresh worker
     * JVM about a second more of CPU (its selector thread, its classes compiled), which on 2 cores
     * is a second of the tour.
     * @param uri what to fetch
     * @return the body
     */
    static String fetch(String uri) {
        try {
            HttpURLConnection c = (HttpURLConnection) URI.create(uri).toURL().openConnection();
            c.setConnectTimeout(10_000);
            c.setReadTimeout(30_000);
            int code = c.getResponseCode();
            if (code != 200) {
                throw new IllegalStateException("GET " + uri + " answered " + code);
            }
            try (InputStream in = c.getInputStream()) {
                return new String(in.readAllBytes(), StandardCharsets.UTF_8);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("GET " + uri + " failed", e);
        }
    }

    private static int param(String query, String name, int otherwise) {
        if (query == null) {
            return otherwise;
        }
        for (String kv : query.split("&")) {
            if (kv.startsWith(name + "=")) {
                return Integer.parseInt(kv.substring(name.length() + 1));
            }
        }
        return otherwise;
    }

    @Override
    public void close() {
        server.stop(0);
        threads.shutdownNow();
    }
}
