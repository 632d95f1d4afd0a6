package io.multiproc4j.cli.tour;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
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
    private static final HttpClient CLIENT = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(10)).build();
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

    /** @return a client shared by the tour (one per JVM: a worker process gets its own) */
    static HttpClient client() {
        return CLIENT;
    }

    /**
     * A blocking GET, as a task on any thread or worker process does it.
     * @param uri what to fetch
     * @return the body
     */
    static String fetch(String uri) {
        try {
            HttpResponse<String> r = CLIENT.send(HttpRequest.newBuilder(URI.create(uri)).timeout(Duration.ofSeconds(30))
                    .build(), HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() != 200) {
                throw new IllegalStateException("GET " + uri + " answered " + r.statusCode());
            }
            return r.body();
        } catch (IOException e) {
            throw new UncheckedIOException("GET " + uri + " failed", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted during GET " + uri, e);
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
