package io.multiproc4j.server.internal;

import com.sun.net.httpserver.Authenticator;
import com.sun.net.httpserver.Filter;
import com.sun.net.httpserver.Headers;
import com.sun.net.httpserver.HttpContext;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import com.sun.net.httpserver.HttpPrincipal;
import com.sun.net.httpserver.HttpServer;
import io.multiproc4j.internal.transport.FrameChannel;
import io.multiproc4j.internal.transport.FrameChannel.PayloadWriter;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The HTTP/1.1 we speak: enough of RFC 9112 to run a JDK {@link HttpHandler} without the JDK's
 * {@code HttpServer} (which binds sockets of its own and so cannot serve a listener it is given).
 *
 * <pre>
 *  socket ─► {@link #readRequest} (head ≤ 64 KiB; body by Content-Length or chunked, ≤ 16 MiB)
 *         ─► {@link Exchange} ─► handler.handle(exchange)
 *         ─► status line + headers + body (Content-Length, or chunked when the handler gives 0)
 * </pre>
 *
 * Requests are read whole before the handler runs (so a request can also travel as one frame to
 * a worker in ACCEPTOR mode, {@link #encode}/{@link #decode}); responses stream to the socket.
 * Keep-alive is HTTP/1.1's default; {@code Connection: close} (or HTTP/1.0 without keep-alive, or a
 * stopping worker) ends the connection after the response.
 */
public final class Http {
    static final int MAX_HEAD = 64 * 1024;
    static final int MAX_BODY = 16 * 1024 * 1024;

    private Http() {}

    /**
     * A request, read whole.
     *
     * @param method   GET, POST, ...
     * @param target   the request target as sent (path and query)
     * @param protocol HTTP/1.1 or HTTP/1.0
     * @param headers  its headers
     * @param body     its body (decoded when it came chunked)
     */
    public record Request(String method, String target, String protocol, Headers headers, byte[] body) {
        /** @return whether the client wants the connection kept after this request */
        public boolean keepAlive() {
            String connection = headers.getFirst("Connection");
            if (connection != null && connection.toLowerCase(Locale.ROOT).contains("close")) {
                return false;
            }
            if ("HTTP/1.0".equals(protocol)) {
                return connection != null && connection.toLowerCase(Locale.ROOT).contains("keep-alive");
            }
            return true;
        }
    }

    /** A request that cannot be served, with the status to answer it with. */
    public static final class BadRequest extends IOException {
        private static final long serialVersionUID = 1L;
        final int status;

        BadRequest(int status, String message) {
            super(message);
            this.status = status;
        }

        /** @return the status to answer with (400, 413, 431) */
        public int status() {
            return status;
        }
    }

    /**
     * @param in the connection's stream, buffered
     * @return the next request, or {@code null} at a clean end of stream between requests
     * @throws BadRequest  on a malformed or oversized request
     * @throws IOException when the connection breaks mid-request
     */
    public static Request readRequest(InputStream in) throws IOException {
        String requestLine = readLine(in, true);
        if (requestLine == null) {
            return null;
        }
        while (requestLine.isEmpty()) { // RFC 9112 2.2: ignore leading empty lines
            requestLine = readLine(in, true);
            if (requestLine == null) {
                return null;
            }
        }
        String[] parts = requestLine.split(" ");
        if (parts.length != 3 || !parts[2].startsWith("HTTP/1.")) {
            throw new BadRequest(400, "malformed request line: " + requestLine);
        }
        Headers headers = new Headers();
        int headBytes = requestLine.length();
        while (true) {
            String line = readLine(in, false);
            headBytes += line.length() + 2;
            if (headBytes > MAX_HEAD) {
                throw new BadRequest(431, "request head larger than " + MAX_HEAD + " bytes");
            }
            if (line.isEmpty()) {
                break;
            }
            int colon = line.indexOf(':');
            if (colon <= 0) {
                throw new BadRequest(400, "malformed header line: " + line);
            }
            headers.add(line.substring(0, colon).trim(), line.substring(colon + 1).trim());
        }
        byte[] body;
        String te = headers.getFirst("Transfer-Encoding");
        if (te != null && te.toLowerCase(Locale.ROOT).contains("chunked")) {
            body = readChunked(in);
        } else {
            String cl = headers.getFirst("Content-Length");
            long length;
            try {
                length = cl == null ? 0 : Long.parseLong(cl.trim());
            } catch (NumberFormatException e) {
                throw new BadRequest(400, "bad Content-Length: " + cl);
            }
            if (length < 0 || length > MAX_BODY) {
                throw new BadRequest(413, "request body of " + length + " bytes (the limit is " + MAX_BODY + ")");
            }
            body = in.readNBytes((int) length);
            if (body.length < length) {
                throw new EOFException("connection closed in the request body");
            }
        }
        return new Request(parts[0], parts[1], parts[2], headers, body);
    }

    private static byte[] readChunked(InputStream in) throws IOException {
        var body = new ByteArrayOutputStream();
        while (true) {
            String sizeLine = readLine(in, false);
            int semi = sizeLine.indexOf(';');
            int size;
            try {
                size = Integer.parseInt((semi < 0 ? sizeLine : sizeLine.substring(0, semi)).trim(), 16);
            } catch (NumberFormatException e) {
                throw new BadRequest(400, "bad chunk size: " + sizeLine);
            }
            if (size < 0 || body.size() + (long) size > MAX_BODY) {
                throw new BadRequest(413, "request body larger than " + MAX_BODY + " bytes");
            }
            if (size == 0) {
                while (!readLine(in, false).isEmpty()) {
                    // trailers: ignored
                }
                return body.toByteArray();
            }
            byte[] chunk = in.readNBytes(size);
            if (chunk.length < size) {
                throw new EOFException("connection closed in a chunk");
            }
            body.write(chunk);
            readLine(in, false);
        }
    }

    /** Reads a line ending in CRLF (or LF); null at EOF before any byte when {@code eofOk}. */
    private static String readLine(InputStream in, boolean eofOk) throws IOException {
        if (in instanceof LineInput lines) {
            return lines.readLine(MAX_HEAD, eofOk);
        }
        var line = new StringBuilder();
        while (true) {
            int b = in.read();
            if (b < 0) {
                if (eofOk && line.isEmpty()) {
                    return null;
                }
                throw new EOFException("connection closed in the request head");
            }
            if (b == '\n') {
                int n = line.length();
                if (n > 0 && line.charAt(n - 1) == '\r') {
                    line.setLength(n - 1);
                }
                return line.toString();
            }
            if (line.length() >= MAX_HEAD) {
                throw new BadRequest(431, "request line or header longer than " + MAX_HEAD + " bytes");
            }
            line.append((char) b); // ISO-8859-1, as RFC 9110 says for header octets
        }
    }

    /**
     * Appends a request to a frame payload being written (no copy of its own).
     *
     * @param request a request
     * @param remote  the client's address, as text
     * @param w       the payload
     * @throws IOException never, in practice
     */
    public static void encode(Request request, String remote, PayloadWriter w) throws IOException {
        w.writeUTF(request.method());
        w.writeUTF(request.target());
        w.writeUTF(request.protocol());
        w.writeUTF(remote);
        w.writeInt(request.headers().size());
        for (Map.Entry<String, List<String>> e : request.headers().entrySet()) {
            w.writeUTF(e.getKey());
            w.writeInt(e.getValue().size());
            for (String v : e.getValue()) {
                w.writeUTF(v);
            }
        }
        w.bytes(request.body());
    }

    /**
     * Decodes what {@link #encode} wrote.
     *
     * @param in the payload
     * @return the request and the remote address
     * @throws IOException on a malformed payload
     */
    public static Map.Entry<Request, String> decode(DataInputStream in) throws IOException {
        String method = in.readUTF();
        String target = in.readUTF();
        String protocol = in.readUTF();
        String remote = in.readUTF();
        int n = in.readInt();
        Headers headers = new Headers();
        for (int i = 0; i < n; i++) {
            String name = in.readUTF();
            int values = in.readInt();
            for (int j = 0; j < values; j++) {
                headers.add(name, in.readUTF());
            }
        }
        byte[] body = FrameChannel.readBytes(in);
        return Map.entry(new Request(method, target, protocol, headers, body), remote);
    }

    /**
     * A complete response with a short text body, for errors we answer ourselves.
     *
     * @param status the status code
     * @param text   the body
     * @return the bytes to write
     */
    public static byte[] simpleResponse(int status, String text) {
        byte[] body = (text + "\n").getBytes(StandardCharsets.UTF_8);
        String head = "HTTP/1.1 " + status + " " + reason(status) + "\r\nContent-Type: text/plain; charset=utf-8\r\n"
                + "Content-Length: " + body.length + "\r\nConnection: close\r\n\r\n";
        byte[] h = head.getBytes(StandardCharsets.ISO_8859_1);
        byte[] all = new byte[h.length + body.length];
        System.arraycopy(h, 0, all, 0, h.length);
        System.arraycopy(body, 0, all, h.length, body.length);
        return all;
    }

    static String reason(int status) {
        return switch (status) {
            case 200 -> "OK";
            case 201 -> "Created";
            case 204 -> "No Content";
            case 301 -> "Moved Permanently";
            case 302 -> "Found";
            case 304 -> "Not Modified";
            case 400 -> "Bad Request";
            case 404 -> "Not Found";
            case 405 -> "Method Not Allowed";
            case 413 -> "Content Too Large";
            case 431 -> "Request Header Fields Too Large";
            case 500 -> "Internal Server Error";
            case 503 -> "Service Unavailable";
            default -> "Status";
        };
    }

    /**
     * Runs a handler on one request and writes its response to {@code out} (not flushed).
     *
     * @param handler   the handler
     * @param request   the request
     * @param keepAlive whether the connection stays open after the response
     * @param local     the local address
     * @param remote    the remote address
     * @param out       where the response goes
     * @return whether the connection may be kept (false when the handler failed mid-response)
     * @throws IOException when writing fails
     */
    public static boolean handle(HttpHandler handler, Request request, boolean keepAlive, InetSocketAddress local,
                                 InetSocketAddress remote, OutputStream out) throws IOException {
        var exchange = new Exchange(request, keepAlive, local, remote, out);
        try {
            handler.handle(exchange);
        } catch (Throwable t) {
            if (!exchange.headersSent) {
                exchange.getResponseHeaders().clear();
                exchange.keepAlive = false;
                byte[] body = ("handler failed: " + t).getBytes(StandardCharsets.UTF_8);
                exchange.sendResponseHeaders(500, body.length);
                exchange.getResponseBody().write(body);
            } else {
                // Broken off mid-response: what it wrote goes out (the caller flushes it), and the
                // connection ends, since the client cannot tell where this response stops.
                exchange.keepAlive = false;
                completeBody(exchange);
                return false;
            }
        }
        if (!exchange.headersSent) {
            byte[] body = "the handler sent no response".getBytes(StandardCharsets.UTF_8);
            exchange.keepAlive = false;
            exchange.sendResponseHeaders(500, body.length);
            exchange.getResponseBody().write(body);
        }
        if (!completeBody(exchange)) {
            return false; // a body shorter than it declared: the same
        }
        return exchange.keepAlive;
    }

    /**
     * Ends the response body. A body shorter than its Content-Length cannot be finished: that is
     * not an error of the connection (whose caller must still flush what was written and then
     * close it; an exception here once skipped both, and in ACCEPTOR mode left the client without
     * an answer), only a reason to end it.
     *
     * @return whether the response is complete
     */
    private static boolean completeBody(Exchange exchange) {
        try {
            exchange.finish();
            return true;
        } catch (IOException e) {
            exchange.keepAlive = false;
            return false;
        }
    }

    /** {@link HttpExchange} over one request read whole and an output stream. */
    static final class Exchange extends HttpExchange {
        private final Request request;
        private final Headers responseHeaders = new Headers();
        private final InetSocketAddress local;
        private final InetSocketAddress remote;
        private final Map<String, Object> attributes = new HashMap<>();
        private InputStream in;
        private OutputStream rawOut;
        private OutputStream body;
        private boolean keepAlive;
        private boolean headersSent;
        private boolean finished;
        private int status = -1;

        Exchange(Request request, boolean keepAlive, InetSocketAddress local, InetSocketAddress remote, OutputStream out) {
            this.request = request;
            this.keepAlive = keepAlive;
            this.local = local;
            this.remote = remote;
            this.rawOut = out;
            this.in = new ByteArrayInputStream(request.body());
        }

        @Override
        public Headers getRequestHeaders() {
            return request.headers();
        }

        @Override
        public Headers getResponseHeaders() {
            return responseHeaders;
        }

        @Override
        public URI getRequestURI() {
            return URI.create(request.target());
        }

        @Override
        public String getRequestMethod() {
            return request.method();
        }

        @Override
        public HttpContext getHttpContext() {
            return ROOT_CONTEXT;
        }

        @Override
        public void close() {
            try {
                finish();
            } catch (IOException e) {
                keepAlive = false;
            }
        }

        void finish() throws IOException {
            if (finished) {
                return;
            }
            if (!headersSent) {
                return; // handle() answers 500 for it
            }
            finished = true;
            body.close();
        }

        @Override
        public InputStream getRequestBody() {
            return in;
        }

        @Override
        public OutputStream getResponseBody() {
            if (body == null) {
                // before sendResponseHeaders: writes would have nowhere to go; the JDK's server buffers
                // nothing either, it fails at the write. Hand out a stream that says so.
                return new OutputStream() {
                    @Override
                    public void write(int b) throws IOException {
                        if (body == null) {
                            throw new IOException("sendResponseHeaders must be called before writing the body");
                        }
                        body.write(b);
                    }

                    @Override
                    public void write(byte[] b, int off, int len) throws IOException {
                        if (body == null) {
                            throw new IOException("sendResponseHeaders must be called before writing the body");
                        }
                        body.write(b, off, len);
                    }

                    @Override
                    public void close() throws IOException {
                        if (body != null) {
                            body.close();
                        }
                    }
                };
            }
            return body;
        }

        @Override
        public void sendResponseHeaders(int rCode, long responseLength) throws IOException {
            if (headersSent) {
                throw new IOException("headers already sent");
            }
            headersSent = true;
            status = rCode;
            var head = new StringBuilder(128);
            head.append("HTTP/1.1 ").append(rCode).append(' ').append(reason(rCode)).append("\r\n");
            boolean noBody = responseLength < 0 || rCode == 204 || rCode == 304 || "HEAD".equals(request.method());
            boolean chunked = !noBody && responseLength == 0;
            responseHeaders.remove("Content-Length");
            responseHeaders.remove("Transfer-Encoding");
            for (Map.Entry<String, List<String>> e : responseHeaders.entrySet()) {
                for (String v : e.getValue()) {
                    head.append(e.getKey()).append(": ").append(v).append("\r\n");
                }
            }
            String connection = responseHeaders.getFirst("Connection");
            if (connection != null && connection.toLowerCase(Locale.ROOT).contains("close")) {
                keepAlive = false;
            } else if (!keepAlive) {
                head.append("Connection: close\r\n");
            }
            if (chunked) {
                head.append("Transfer-Encoding: chunked\r\n");
            } else if (rCode != 204 && rCode != 304) {
                head.append("Content-Length: ").append(noBody ? 0 : responseLength).append("\r\n");
            }
            head.append("\r\n");
            rawOut.write(head.toString().getBytes(StandardCharsets.ISO_8859_1));
            body = chunked ? new ChunkedOut(rawOut) : new FixedOut(rawOut, noBody ? 0 : responseLength);
        }

        @Override
        public InetSocketAddress getRemoteAddress() {
            return remote;
        }

        @Override
        public int getResponseCode() {
            return status;
        }

        @Override
        public InetSocketAddress getLocalAddress() {
            return local;
        }

        @Override
        public String getProtocol() {
            return request.protocol();
        }

        @Override
        public Object getAttribute(String name) {
            return attributes.get(name);
        }

        @Override
        public void setAttribute(String name, Object value) {
            attributes.put(name, value);
        }

        @Override
        public void setStreams(InputStream i, OutputStream o) {
            if (i != null) {
                in = i;
            }
            if (o != null) {
                rawOut = o;
            }
        }

        @Override
        public HttpPrincipal getPrincipal() {
            return null;
        }
    }

    /** A body of a declared length: refuses more, and ends the connection when it got less. */
    private static final class FixedOut extends OutputStream {
        private final OutputStream out;
        private long remaining;
        private boolean closed;

        FixedOut(OutputStream out, long length) {
            this.out = out;
            this.remaining = length;
        }

        @Override
        public void write(int b) throws IOException {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            if (closed) {
                throw new IOException("response body already closed");
            }
            if (len > remaining) {
                throw new IOException("response body longer than the " + "declared Content-Length");
            }
            out.write(b, off, len);
            remaining -= len;
        }

        @Override
        public void close() throws IOException {
            if (!closed) {
                closed = true;
                if (remaining > 0) {
                    throw new IOException("response body " + remaining + " bytes shorter than declared");
                }
            }
        }
    }

    /** A chunked body. */
    private static final class ChunkedOut extends OutputStream {
        private final OutputStream out;
        private boolean closed;

        ChunkedOut(OutputStream out) {
            this.out = out;
        }

        @Override
        public void write(int b) throws IOException {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            if (closed) {
                throw new IOException("response body already closed");
            }
            if (len == 0) {
                return;
            }
            out.write((Integer.toHexString(len) + "\r\n").getBytes(StandardCharsets.ISO_8859_1));
            out.write(b, off, len);
            out.write(CRLF);
        }

        @Override
        public void close() throws IOException {
            if (!closed) {
                closed = true;
                out.write(LAST_CHUNK);
            }
        }
    }

    private static final byte[] CRLF = {'\r', '\n'};
    private static final byte[] LAST_CHUNK = "0\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1);

    /** The one context handlers see: path "/", no filters, no authenticator. */
    private static final HttpContext ROOT_CONTEXT = new HttpContext() {
        private final Map<String, Object> attributes = new HashMap<>();
        private final List<Filter> filters = new ArrayList<>();

        @Override
        public HttpHandler getHandler() {
            return null;
        }

        @Override
        public void setHandler(HttpHandler handler) {
            throw new UnsupportedOperationException("the handler is set by the supervisor");
        }

        @Override
        public String getPath() {
            return "/";
        }

        @Override
        public HttpServer getServer() {
            return null;
        }

        @Override
        public Map<String, Object> getAttributes() {
            return attributes;
        }

        @Override
        public List<Filter> getFilters() {
            return filters;
        }

        @Override
        public Authenticator setAuthenticator(Authenticator auth) {
            throw new UnsupportedOperationException("authentication belongs in the handler here");
        }

        @Override
        public Authenticator getAuthenticator() {
            return null;
        }
    };
}
