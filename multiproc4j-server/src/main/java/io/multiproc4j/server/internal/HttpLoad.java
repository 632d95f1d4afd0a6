package io.multiproc4j.server.internal;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * A small HTTP load generator on raw sockets, for the server's tests and benchmarks: {@code c}
 * clients, each sending GETs one after another, until a request budget is spent or {@link
 * Run#stop()} is called. Every request is checked: a status other than 200 or a broken connection
 * counts as a failure, with its reason kept.
 *
 * <p>With {@code newConnections}, every request opens a connection of its own and sends
 * {@code Connection: close}, so the kernel balances each one over the workers' listeners (it
 * balances per connection). Without it, each client keeps one connection alive (as {@code wrk}
 * does) and reconnects only when the server closes it.
 *
 * <p>Responses name the worker that served them in an {@code X-Worker-Pid} header when the handler
 * sets it; {@link Result#perWorker()} counts them.
 */
public final class HttpLoad {
    private HttpLoad() {}

    /**
     * @param ok        requests answered 200
     * @param failed    requests that failed
     * @param failures  the first reasons (up to 50)
     * @param perWorker requests per X-Worker-Pid
     * @param latencies every successful request's latency, nanoseconds, sorted
     * @param nanos     how long the run took
     */
    public record Result(long ok, long failed, List<String> failures, Map<String, Long> perWorker, long[] latencies,
                         long nanos) {
        /** @return successful requests per second */
        public double perSecond() {
            return ok * 1e9 / nanos;
        }

        /**
         * @param q a quantile, 0..1
         * @return its latency in milliseconds
         */
        public double latencyMillis(double q) {
            if (latencies.length == 0) {
                return Double.NaN;
            }
            int i = (int) Math.min(latencies.length - 1, Math.round(q * (latencies.length - 1)));
            return latencies[i] / 1e6;
        }

        @Override
        public String toString() {
            return String.format("%d ok, %d failed, %.0f req/s, p50 %.2f ms, p99 %.2f ms, per worker %s%s", ok, failed,
                    perSecond(), latencyMillis(0.5), latencyMillis(0.99), perWorker,
                    failures.isEmpty() ? "" : ", failures " + failures.subList(0, Math.min(5, failures.size())));
        }
    }

    /** A load in progress. */
    public static final class Run {
        private final AtomicBoolean stop = new AtomicBoolean();
        private final CountDownLatch done;
        private final LongAdder ok = new LongAdder();
        private final LongAdder failed = new LongAdder();
        private final List<String> failures = new ArrayList<>();
        private final Map<String, LongAdder> perWorker = new ConcurrentHashMap<>();
        private final List<long[]> latencies = new ArrayList<>();
        private final long start = System.nanoTime();
        private volatile long end;

        Run(int clients) {
            this.done = new CountDownLatch(clients);
        }

        /** Asks every client to stop after its current request. */
        public void stop() {
            stop.set(true);
        }

        /** @return requests answered so far */
        public long completed() {
            return ok.sum() + failed.sum();
        }

        /** @return requests answered 200 so far */
        public long succeeded() {
            return ok.sum();
        }

        /**
         * Stops the clients and waits for them.
         *
         * @return what happened
         * @throws InterruptedException when interrupted while waiting
         */
        public Result finish() throws InterruptedException {
            stop();
            return await();
        }

        /**
         * Waits for the clients to spend their budget.
         *
         * @return what happened
         * @throws InterruptedException when interrupted while waiting
         */
        public Result await() throws InterruptedException {
            done.await();
            long[] all;
            synchronized (latencies) {
                all = latencies.stream().flatMapToLong(Arrays::stream).toArray();
            }
            Arrays.sort(all);
            Map<String, Long> per = new java.util.TreeMap<>();
            perWorker.forEach((k, v) -> per.put(k, v.sum()));
            synchronized (failures) {
                return new Result(ok.sum(), failed.sum(), List.copyOf(failures), per, all, end - start);
            }
        }

        void fail(String reason) {
            failed.increment();
            synchronized (failures) {
                if (failures.size() < 50) {
                    failures.add(reason);
                }
            }
        }
    }

    /**
     * Starts a load.
     *
     * @param port           the server's port on 127.0.0.1
     * @param path           the request target
     * @param clients        concurrent clients (virtual threads)
     * @param requests       requests in all, at most (split over the clients); the run also ends at {@link Run#stop()}
     * @param newConnections one connection per request (else keep-alive)
     * @return the run
     */
    public static Run start(int port, String path, int clients, long requests, boolean newConnections) {
        var run = new Run(clients);
        AtomicLong budget = new AtomicLong(requests);
        byte[] request = ("GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\n"
                + (newConnections ? "Connection: close\r\n" : "") + "\r\n").getBytes(StandardCharsets.ISO_8859_1);
        for (int c = 0; c < clients; c++) {
            Thread.ofVirtual().name("load-" + c).start(() -> {
                long[] mine = new long[1024];
                int n = 0;
                Socket socket = null;
                InputStream in = null;
                OutputStream out = null;
                try {
                    while (!run.stop.get() && budget.getAndDecrement() > 0) {
                        long t0 = System.nanoTime();
                        try {
                            if (socket == null) {
                                socket = new Socket();
                                socket.setTcpNoDelay(true);
                                socket.connect(new InetSocketAddress("127.0.0.1", port), 10_000);
                                socket.setSoTimeout(60_000);
                                in = new LineInput(socket.getInputStream(), 8192);
                                out = socket.getOutputStream();
                            }
                            out.write(request);
                            out.flush();
                            Response r = readResponse(in);
                            if (r.close || newConnections) {
                                socket.close();
                                socket = null;
                            }
                            if (r.status == 200) {
                                run.ok.increment();
                                if (n == mine.length) {
                                    mine = Arrays.copyOf(mine, n * 2);
                                }
                                mine[n++] = System.nanoTime() - t0;
                                if (r.worker != null) {
                                    run.perWorker.computeIfAbsent(r.worker, k -> new LongAdder()).increment();
                                }
                            } else {
                                run.fail("status " + r.status + ": " + r.body.strip());
                            }
                        } catch (IOException e) {
                            run.fail(e.toString());
                            if (socket != null) {
                                try {
                                    socket.close();
                                } catch (IOException ignored) {
                                    // gone
                                }
                                socket = null;
                            }
                        }
                    }
                } finally {
                    if (socket != null) {
                        try {
                            socket.close();
                        } catch (IOException ignored) {
                            // gone
                        }
                    }
                    synchronized (run.latencies) {
                        run.latencies.add(Arrays.copyOf(mine, n));
                    }
                    run.end = Math.max(run.end, System.nanoTime());
                    run.done.countDown();
                }
            });
        }
        return run;
    }

    private record Response(int status, String worker, boolean close, String body) {}

    private static Response readResponse(InputStream in) throws IOException {
        String status = line(in);
        if (status == null) {
            throw new IOException("connection closed before a response");
        }
        String[] parts = status.split(" ", 3);
        if (parts.length < 2 || !parts[0].startsWith("HTTP/1.")) {
            throw new IOException("malformed status line: " + status);
        }
        int code = Integer.parseInt(parts[1]);
        long length = -1;
        boolean chunked = false;
        boolean close = false;
        String worker = null;
        String h;
        while ((h = line(in)) != null && !h.isEmpty()) {
            int colon = h.indexOf(':');
            if (colon < 0) {
                continue;
            }
            String name = h.substring(0, colon).trim().toLowerCase(java.util.Locale.ROOT);
            String value = h.substring(colon + 1).trim();
            switch (name) {
                case "content-length" -> length = Long.parseLong(value);
                case "transfer-encoding" -> chunked = value.toLowerCase(java.util.Locale.ROOT).contains("chunked");
                case "connection" -> close = value.toLowerCase(java.util.Locale.ROOT).contains("close");
                case "x-worker-pid" -> worker = value;
                default -> { }
            }
        }
        if (h == null) {
            throw new IOException("connection closed in the response head");
        }
        byte[] body;
        if (chunked) {
            var b = new java.io.ByteArrayOutputStream();
            while (true) {
                String size = line(in);
                if (size == null) {
                    throw new IOException("connection closed in a chunk");
                }
                int n = Integer.parseInt(size.trim(), 16);
                if (n == 0) {
                    line(in);
                    break;
                }
                b.write(in.readNBytes(n));
                line(in);
            }
            body = b.toByteArray();
        } else if (length >= 0) {
            body = in.readNBytes((int) length);
            if (body.length < length) {
                throw new IOException("connection closed in the response body");
            }
        } else {
            body = in.readAllBytes();
            close = true;
        }
        return new Response(code, worker, close, new String(body, StandardCharsets.UTF_8));
    }

    private static String line(InputStream in) throws IOException {
        if (in instanceof LineInput lines) {
            return lines.readLine(Http.MAX_HEAD, true);
        }
        var sb = new StringBuilder();
        int b;
        while ((b = in.read()) >= 0) {
            if (b == '\n') {
                int n = sb.length();
                if (n > 0 && sb.charAt(n - 1) == '\r') {
                    sb.setLength(n - 1);
                }
                return sb.toString();
            }
            sb.append((char) b);
        }
        return sb.isEmpty() ? null : sb.toString();
    }
}
