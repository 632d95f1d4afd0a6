package io.multiproc4j.server.internal;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;

/**
 * A connection's read buffer for HTTP/1.1 heads: lines are found in the buffer and made into a
 * string at once, where reading them byte by byte from a {@link java.io.BufferedInputStream} takes
 * its lock for every byte and a {@link StringBuilder} for every line. Used by one thread at a time
 * (the connection's), so it has no lock. Bodies read through {@link #read(byte[], int, int)}.
 *
 * <p>Over an array ({@link #LineInput(byte[], int, int)}), it reads bytes already received, with no
 * copy: the end of the array is the end of the stream, and {@link #position()} says how far a parse
 * got. The ACCEPTOR's event loop parses a request this way as soon as its bytes are in.
 */
public final class LineInput extends InputStream {
    private final InputStream in; // null over an array
    private final byte[] buf;
    private int pos;
    private int count;

    /**
     * @param in   the connection's stream
     * @param size the buffer size
     */
    public LineInput(InputStream in, int size) {
        this.in = in;
        this.buf = new byte[size];
    }

    /**
     * Reads the bytes already in an array: its end is the end of the stream.
     *
     * @param bytes  the array
     * @param offset where the bytes start
     * @param length how many there are
     */
    public LineInput(byte[] bytes, int offset, int length) {
        java.util.Objects.checkFromIndexSize(offset, length, bytes.length);
        this.in = null;
        this.buf = bytes;
        this.pos = offset;
        this.count = offset + length;
    }

    /** @return over an array, the index of the next byte to read */
    public int position() {
        return pos;
    }

    /**
     * Over an array, a read of more bytes than are there ends the stream at once, with no copy of the
     * ones that are (a request whose body has not all arrived is parsed again later, whole).
     */
    @Override
    public byte[] readNBytes(int len) throws IOException {
        if (in == null && len > count - pos) {
            throw new EOFException("end of the bytes received, " + (len - (count - pos)) + " short");
        }
        return super.readNBytes(len);
    }

    private boolean fill() throws IOException {
        if (in == null) {
            return false;
        }
        int n = in.read(buf, 0, buf.length);
        if (n <= 0) {
            return false;
        }
        pos = 0;
        count = n;
        return true;
    }

    /**
     * Waits until a byte can be read, without taking it.
     *
     * @return false at the end of the stream
     * @throws IOException when reading fails (a read timeout among them)
     */
    public boolean awaitByte() throws IOException {
        return pos < count || fill();
    }

    @Override
    public int read() throws IOException {
        if (pos == count && !fill()) {
            return -1;
        }
        return buf[pos++] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        java.util.Objects.checkFromIndexSize(off, len, b.length);
        if (len == 0) {
            return 0;
        }
        if (pos == count) {
            if (in != null && len >= buf.length) {
                return in.read(b, off, len); // a large body: no copy through the buffer
            }
            if (!fill()) {
                return -1;
            }
        }
        int n = Math.min(len, count - pos);
        System.arraycopy(buf, pos, b, off, n);
        pos += n;
        return n;
    }

    @Override
    public int available() throws IOException {
        return count - pos;
    }

    /**
     * Reads a line ending in LF (a CR before it dropped), as ISO-8859-1 (RFC 9110's header octets).
     *
     * @param max   the longest line accepted, CR included
     * @param eofOk whether the end of the stream before the line's first byte is a clean end
     * @return the line; null at a clean end
     * @throws Http.BadRequest (431) for a line longer than {@code max}
     * @throws EOFException    at the end of the stream within a line
     * @throws IOException     when reading fails
     */
    public String readLine(int max, boolean eofOk) throws IOException {
        byte[] partial = null; // the line's start, when it spans refills
        int partialLength = 0;
        while (true) {
            if (pos == count && !fill()) {
                if (eofOk && partialLength == 0) {
                    return null;
                }
                throw new EOFException("connection closed in the request head");
            }
            int start = pos;
            int lf = -1;
            for (int i = start; i < count; i++) {
                if (buf[i] == '\n') {
                    lf = i;
                    break;
                }
            }
            int end = lf < 0 ? count : lf;
            if (partialLength + (end - start) > max) {
                throw new Http.BadRequest(431, "request line or header longer than " + max + " bytes");
            }
            if (lf >= 0) {
                pos = lf + 1;
                if (partial == null) {
                    int n = end - start;
                    if (n > 0 && buf[end - 1] == '\r') {
                        n--;
                    }
                    return new String(buf, start, n, StandardCharsets.ISO_8859_1);
                }
            } else {
                pos = count;
            }
            if (partial == null) {
                partial = new byte[Math.max(256, 2 * (end - start))];
            } else if (partial.length < partialLength + (end - start)) {
                partial = java.util.Arrays.copyOf(partial, Math.max(2 * partial.length, partialLength + (end - start)));
            }
            System.arraycopy(buf, start, partial, partialLength, end - start);
            partialLength += end - start;
            if (lf >= 0) {
                int n = partialLength;
                if (n > 0 && partial[n - 1] == '\r') {
                    n--;
                }
                return new String(partial, 0, n, StandardCharsets.ISO_8859_1);
            }
        }
    }
}
