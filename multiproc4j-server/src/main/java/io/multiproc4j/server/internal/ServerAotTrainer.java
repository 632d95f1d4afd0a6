package io.multiproc4j.server.internal;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import io.multiproc4j.WorkerOutput;
import io.multiproc4j.internal.supervise.AotCache;
import io.multiproc4j.server.PortSharing;
import io.multiproc4j.server.Supervisor;
import io.multiproc4j.server.WorkerModel;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;

/**
 * The trainer JVM of the server workers' AOT cache (core's {@link AotCache}, which registers this
 * class for {@link ServerWorkerMain} through {@link AotCache#registerTrainer}): what a server worker
 * does at start and then while serving, once, in a worker that records the cache as it exits.
 *
 * <p>A supervisor of one {@code SHARED_SOCKET} worker, so the worker goes through core's handshake,
 * SETUP, fetching the listener over the {@link FdServer} (SCM_RIGHTS), adopting it
 * ({@link NativeSockets}: the FFM linker's first use, most of a worker's start) and READY; then
 * HTTP/1.1 requests on keep-alive connections and on a new connection each, over loopback; then a
 * graceful close, after which the worker exits 0 and the JDK writes the cache. {@code REUSE_PORT}
 * workers fetch and adopt their listener the same way; {@code ACCEPTOR} workers skip that step.
 */
public final class ServerAotTrainer {
    private ServerAotTrainer() {}

    /** The training app: a small body, as most responses. */
    public static final class TrainingHandler implements HttpHandler {
        @Override
        public void handle(HttpExchange exchange) throws IOException {
            byte[] body = "trained".getBytes(StandardCharsets.US_ASCII);
            exchange.getResponseHeaders().add("Content-Type", "text/plain");
            exchange.sendResponseHeaders(200, body.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        }
    }

    /**
     * @param args core's trainer arguments (the cache directory, the key, the user's worker options)
     */
    public static void main(String[] args) {
        // At nice 10 on a busy machine the recording worker may take minutes to be ready: not a failure here.
        System.setProperty("multiproc4j.server.startTimeoutMillis", "600000");
        AotCache.train(args, ServerAotTrainer::serveAFew);
    }

    private static void serveAFew(List<String> workerOptions) throws Exception {
        try (Supervisor server = Supervisor.builder().http(TrainingHandler.class).sharing(PortSharing.SHARED_SOCKET)
                .model(WorkerModel.prefork(1)).jvmOptions(workerOptions)
                // the recording worker writes the cache as it exits: slow on a loaded machine, and not a hang
                .workerTimeout(Duration.ofMinutes(5))
                .workerOutput(WorkerOutput.DISCARD).log(line -> { }).start()) {
            for (boolean newConnections : new boolean[] {false, true}) {
                HttpLoad.Result result = HttpLoad.start(server.port(), "/", 2, 400, newConnections).await();
                if (result.ok() == 0) {
                    throw new IOException("the training worker served nothing: " + result);
                }
            }
        }
    }
}
