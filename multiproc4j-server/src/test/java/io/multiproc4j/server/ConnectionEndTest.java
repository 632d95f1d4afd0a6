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
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Keep-alive and its end, the same in every sharing model: a connection stays open across
 * requests; it ends after a response whose handler asked for {@code Connection: close}, and after
 * one the handler broke off mid-body (its length is a lie, so nothing after it could be read
 * right). In ACCEPTOR mode it is the worker that decides and the supervisor that closes: the
 * worker's verdict travels with the response. Each case sends a second request on the connection
 * after the response: a server that kept the connection would answer it; these must not.
 */
class ConnectionEndTest {
    /** {@code /?cut}: declares 100 bytes, sends 5, throws; {@code /?close}: Connection: close; else 200 "ok". */
    public static final class Ending implements HttpHandler {
        @Override
        public void handle(HttpExchange exchange) throws IOException {
            String query = exchange.getRequestURI().getQuery();
            if ("cut".equals(query)) {
                exchange.sendResponseHeaders(200, 100);
                OutputStream out = exchange.getResponseBody();
                out.write("short".getBytes(StandardCharsets.US_ASCII));
                out.flush();
                throw new IOException("the handler gives up mid-body");
            }
            if ("close".equals(query)) {
                exchange.getResponseHeaders().set("Connection", "close");
            }
            byte[] body = "ok".getBytes(StandardCharsets.US_ASCII);
            exchange.sendResponseHeaders(200, body.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        }
    }

    private static Supervisor start(PortSharing sharing) {
        // threadsPerWorker(1): ACCEPTOR's workers then run requests on their fixed pool
        return Supervisor.builder().http(Ending.class).sharing(sharing).model(WorkerModel.prefork(1))
                .threadsPerWorker(1).log(line -> { }).start();
    }

    @ParameterizedTest
    @EnumSource(PortSharing.class)
    void keepsTheConnection_acrossRequests(PortSharing sharing) throws Exception {
        try (Supervisor server = start(sharing); Socket socket = connect(server)) {
            InputStream in = socket.getInputStream();
            for (int i = 0; i < 3; i++) {
                send(socket, "/");
                assertThat(readHead(in)).startsWith("HTTP/1.1 200").doesNotContainIgnoringCase("connection: close");
                assertThat(new String(in.readNBytes(2), StandardCharsets.US_ASCII)).isEqualTo("ok");
            }
        }
    }

    @ParameterizedTest
    @EnumSource(PortSharing.class)
    void endsTheConnection_afterAResponseWithConnectionClose(PortSharing sharing) throws Exception {
        try (Supervisor server = start(sharing); Socket socket = connect(server)) {
            InputStream in = socket.getInputStream();
            send(socket, "/?close");
            assertThat(readHead(in)).startsWith("HTTP/1.1 200").containsIgnoringCase("connection: close");
            assertThat(new String(in.readNBytes(2), StandardCharsets.US_ASCII)).isEqualTo("ok");
            assertThat(afterwards(socket, in)).isEmpty();
        }
    }

    @ParameterizedTest
    @EnumSource(PortSharing.class)
    void endsTheConnection_afterAResponseTheHandlerBrokeOff(PortSharing sharing) throws Exception {
        try (Supervisor server = start(sharing); Socket socket = connect(server)) {
            InputStream in = socket.getInputStream();
            send(socket, "/?cut");
            assertThat(readHead(in)).startsWith("HTTP/1.1 200").containsIgnoringCase("content-length: 100");
            assertThat(new String(in.readNBytes(5), StandardCharsets.US_ASCII)).isEqualTo("short");
            assertThat(afterwards(socket, in)).isEmpty();
        }
    }

    private static Socket connect(Supervisor server) throws IOException {
        var socket = new Socket();
        socket.connect(new InetSocketAddress("127.0.0.1", server.port()), 10_000);
        socket.setSoTimeout(60_000); // a hang fails the test instead of blocking the build
        return socket;
    }

    private static void send(Socket socket, String target) throws IOException {
        socket.getOutputStream().write(("GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
                .getBytes(StandardCharsets.ISO_8859_1));
        socket.getOutputStream().flush();
    }

    /** @return the response head, up to and without the empty line */
    private static String readHead(InputStream in) throws IOException {
        var head = new StringBuilder();
        while (!head.toString().endsWith("\r\n\r\n")) {
            int b = in.read();
            if (b < 0) {
                throw new IOException("connection closed in the response head: " + head);
            }
            head.append((char) b);
        }
        return head.substring(0, head.length() - 4);
    }

    /**
     * Sends one more request and reads to the end of the connection.
     *
     * @return what came back: nothing when the server ended the connection (EOF, or a reset for the
     *     request it did not read)
     */
    private static String afterwards(Socket socket, InputStream in) {
        var got = new ByteArrayOutputStream();
        try {
            send(socket, "/");
            byte[] buf = new byte[256];
            int n;
            while ((n = in.read(buf)) >= 0) {
                got.write(buf, 0, n);
            }
        } catch (IOException e) {
            // broken pipe or reset: the server closed the connection
        }
        return got.toString(StandardCharsets.ISO_8859_1);
    }
}
