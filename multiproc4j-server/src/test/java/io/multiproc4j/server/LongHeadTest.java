package io.multiproc4j.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Request heads that do not fit the connection's 8 KiB read buffer, and requests that arrive
 * together in one packet, are read whole and in order, in every sharing model (the worker reads
 * them, or in ACCEPTOR mode the supervisor).
 */
class LongHeadTest {
    /** Answers with the length of X-Long and the request's target. */
    public static final class Echo implements HttpHandler {
        @Override
        public void handle(HttpExchange exchange) throws IOException {
            String longHeader = exchange.getRequestHeaders().getFirst("X-Long");
            byte[] body = ((longHeader == null ? 0 : longHeader.length()) + " " + exchange.getRequestURI())
                    .getBytes(StandardCharsets.US_ASCII);
            exchange.sendResponseHeaders(200, body.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        }
    }

    @ParameterizedTest
    @EnumSource(PortSharing.class)
    void readsAHeadLongerThanTheReadBuffer_andRequestsSentTogether(PortSharing sharing) throws Exception {
        try (Supervisor server = Supervisor.builder().http(Echo.class).sharing(sharing).model(WorkerModel.prefork(1))
                .log(line -> { }).start();
             Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress("127.0.0.1", server.port()), 10_000);
            socket.setSoTimeout(60_000); // a hang fails the test instead of blocking the build
            String value = "v".repeat(20_000); // spans three fills of the 8 KiB buffer
            String requests = "GET /first HTTP/1.1\r\nHost: x\r\nX-Long: " + value + "\r\n\r\n"
                    + "GET /second HTTP/1.1\r\nHost: x\r\n\r\n"; // pipelined: both in one write
            socket.getOutputStream().write(requests.getBytes(StandardCharsets.ISO_8859_1));
            socket.getOutputStream().flush();
            InputStream in = socket.getInputStream();
            assertThat(readResponse(in)).isEqualTo("20000 /first");
            assertThat(readResponse(in)).isEqualTo("0 /second");
        }
    }

    /** @return the body of a 200 response with a Content-Length */
    private static String readResponse(InputStream in) throws IOException {
        var head = new StringBuilder();
        while (!head.toString().endsWith("\r\n\r\n")) {
            int b = in.read();
            if (b < 0) {
                throw new IOException("connection closed in the response head: " + head);
            }
            head.append((char) b);
        }
        assertThat(head.toString()).startsWith("HTTP/1.1 200");
        int length = 0;
        for (String line : head.toString().split("\r\n")) {
            if (line.regionMatches(true, 0, "Content-Length:", 0, 15)) {
                length = Integer.parseInt(line.substring(15).trim());
            }
        }
        return new String(in.readNBytes(length), StandardCharsets.US_ASCII);
    }
}
