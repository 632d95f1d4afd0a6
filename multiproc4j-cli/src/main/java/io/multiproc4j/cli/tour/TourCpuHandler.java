package io.multiproc4j.cli.tour;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import io.multiproc4j.bench.Workloads;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;

/**
 * The server section's CPU-bound handler: each request computes {@link #ROUNDS} rounds of
 * {@link Workloads#heavier} (about a millisecond) and answers the hash. Public with a public no-argument
 * constructor, so that the server module's workers can create it from its class name.
 */
public final class TourCpuHandler implements HttpHandler {
    /** Work per request. */
    public static final int ROUNDS = 300;

    /** Creates the handler (the server's workers do). */
    public TourCpuHandler() {}

    @Override
    public void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            int h = exchange.getRequestURI().hashCode();
            for (int i = 0; i < ROUNDS; i++) {
                h = Workloads.heavier(h);
            }
            byte[] body = Integer.toString(h).getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(200, body.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        }
    }
}
