package io.multiproc4j.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The ACCEPTOR supervisor's client side, which reads requests and writes answers without blocking
 * (one event loop for every client): a request that arrives a byte at a time, head and body, is
 * answered; thousands of pipelined requests, more than it reads ahead, are answered in order; an
 * answer larger than the socket's buffers, to a client that does not read it yet, holds up no other
 * client of the same worker, and arrives whole once read; silent clients are closed.
 */
class AcceptorClientsTest {
    /** {@code /big?N}: N bytes, byte i being i % 251; else "BODY_LENGTH TARGET". */
    public static final class Echo implements HttpHandler {
        @Override
        public void handle(HttpExchange exchange) throws IOException {
            byte[] request = exchange.getRequestBody().readAllBytes();
            String query = exchange.getRequestURI().getQuery();
            byte[] body;
            if (exchange.getRequestURI().getPath().equals("/big")) {
                body = new byte[Integer.parseInt(query)];
                for (int i = 0; i < body.length; i++) {
                    body[i] = (byte) (i % 251);
                }
            } else {
                body = (request.length + " " + exchange.getRequestURI()).getBytes(StandardCharsets.US_ASCII);
            }
            exchange.sendResponseHeaders(200, body.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        }
    }

    private static Supervisor server;

    @BeforeAll
    static void start() {
        // one worker with one request thread: every answer comes back through the same worker's channel
        server = Supervisor.builder().http(Echo.class).sharing(PortSharing.ACCEPTOR).model(WorkerModel.prefork(1))
                .threadsPerWorker(1).log(line -> { }).start();
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
    }

    @Test
    void answersRequestsThatArriveAByteAtATime_headAndBody_contentLengthAndChunked() throws Exception {
        try (Socket socket = connect()) {
            InputStream in = socket.getInputStream();
            trickle(socket, "POST /fixed HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n0123456789");
            assertThat(readBody(in)).isEqualTo("10 /fixed");
            trickle(socket, "POST /chunked HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                    + "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n");
            assertThat(readBody(in)).isEqualTo("11 /chunked");
        }
    }

    @Test
    void answersThousandsOfPipelinedRequests_inOrder() throws Exception {
        int n = 3000; // ~120 KB of requests: more than the supervisor reads ahead while one is in flight
        var all = new StringBuilder();
        for (int i = 0; i < n; i++) {
            all.append("GET /p").append(i).append(" HTTP/1.1\r\nHost: x\r\n\r\n");
        }
        try (Socket socket = connect()) {
            byte[] bytes = all.toString().getBytes(StandardCharsets.ISO_8859_1);
            // written by another thread while this one reads the answers: neither side waits for the other
            CompletableFuture<Void> sent = CompletableFuture.runAsync(() -> {
                try {
                    socket.getOutputStream().write(bytes);
                    socket.getOutputStream().flush();
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            InputStream in = socket.getInputStream();
            for (int i = 0; i < n; i++) {
                assertThat(readBody(in)).isEqualTo("0 /p" + i);
            }
            sent.get(60, TimeUnit.SECONDS);
        }
    }

    @Test
    void anAnswerTheClientDoesNotReadYet_holdsUpNoOtherClient_andArrivesWhole() throws Exception {
        int size = 64 << 20; // more than loopback's send and receive buffers together (4 + 32 MiB here at most)
        try (Socket slow = connect(); Socket other = connect()) {
            slow.getOutputStream().write(("GET /big?" + size + " HTTP/1.1\r\nHost: x\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
            slow.getOutputStream().flush();
            // the same worker answers these, through the same connection thread in the supervisor
            InputStream otherIn = other.getInputStream();
            for (int i = 0; i < 20; i++) {
                other.getOutputStream().write(("GET /o" + i + " HTTP/1.1\r\nHost: x\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
                other.getOutputStream().flush();
                assertThat(readBody(otherIn)).isEqualTo("0 /o" + i);
            }
            InputStream in = slow.getInputStream();
            int length = Integer.parseInt(contentLength(readHead(in)));
            assertThat(length).isEqualTo(size);
            byte[] buffer = new byte[1 << 16];
            long read = 0;
            while (read < size) {
                int k = in.read(buffer, 0, (int) Math.min(buffer.length, size - read));
                assertThat(k).as("the answer ended after %d of %d bytes", read, size).isPositive();
                for (int j = 0; j < k; j++) {
                    if (buffer[j] != (byte) ((read + j) % 251)) {
                        throw new AssertionError("byte " + (read + j) + " is " + buffer[j]);
                    }
                }
                read += k;
            }
            // and the connection is still good for the next request
            slow.getOutputStream().write("GET /after HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
            slow.getOutputStream().flush();
            assertThat(readBody(in)).isEqualTo("0 /after");
        }
    }

    @Test
    void closesClientsThatStaySilent_betweenRequestsOrWithinOne() throws Exception {
        try (Socket silent = connect(); Socket halfway = connect()) {
            halfway.getOutputStream().write("GET /never-finished HTTP/1.1\r\nHost:".getBytes(StandardCharsets.ISO_8859_1));
            halfway.getOutputStream().flush();
            // the server's idle limit is 5 s; the sockets' 60 s read timeout fails the test instead of hanging it
            assertThat(silent.getInputStream().read()).isEqualTo(-1);
            assertThat(halfway.getInputStream().read()).isEqualTo(-1);
        }
    }

    private static Socket connect() throws IOException {
        var socket = new Socket();
        socket.connect(new InetSocketAddress("127.0.0.1", server.port()), 10_000);
        socket.setTcpNoDelay(true); // each byte trickled goes out in a segment of its own
        socket.setSoTimeout(60_000); // a hang fails the test instead of blocking the build
        return socket;
    }

    private static void trickle(Socket socket, String request) throws IOException {
        OutputStream out = socket.getOutputStream();
        for (byte b : request.getBytes(StandardCharsets.ISO_8859_1)) {
            out.write(b);
            out.flush();
        }
    }

    /** @return the body of a 200 response with a Content-Length */
    private static String readBody(InputStream in) throws IOException {
        String head = readHead(in);
        assertThat(head).startsWith("HTTP/1.1 200");
        return new String(in.readNBytes(Integer.parseInt(contentLength(head))), StandardCharsets.US_ASCII);
    }

    private static String contentLength(String head) {
        for (String line : head.split("\r\n")) {
            if (line.regionMatches(true, 0, "Content-Length:", 0, 15)) {
                return line.substring(15).trim();
            }
        }
        throw new AssertionError("no Content-Length in " + head);
    }

    private static String readHead(InputStream in) throws IOException {
        var head = new ByteArrayOutputStream();
        int matched = 0;
        while (matched < 4) {
            int b = in.read();
            if (b < 0) {
                throw new IOException("connection closed in the response head: " + head);
            }
            head.write(b);
            matched = (b == "\r\n\r\n".charAt(matched)) ? matched + 1 : (b == '\r' ? 1 : 0);
        }
        return head.toString(StandardCharsets.ISO_8859_1);
    }
}
