package io.multiproc4j.testkit;

import io.multiproc4j.internal.manager.ManagerLayout;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.ObjectOutputStream;
import java.net.SocketAddress;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * A manager client written from the wire format ({@link ManagerLayout}) alone, so that a test can
 * put any byte anywhere: before, during and after the handshake. Records what it sent, for replays.
 */
final class RawManagerClient implements AutoCloseable {
    private static final SecureRandom RANDOM = new SecureRandom();
    /** ArgCodec's tag for a JDK serialization stream of Object[]. */
    static final byte ARGS_JDK = 2;

    final SocketChannel channel;
    private final Selector selector;
    private final ByteArrayOutputStream sent = new ByteArrayOutputStream();
    private ByteBuffer in = ByteBuffer.allocate(1 << 16).flip();

    record Frame(int type, byte[] payload) {}

    RawManagerClient(SocketAddress address) throws IOException {
        channel = address instanceof UnixDomainSocketAddress ? SocketChannel.open(StandardProtocolFamily.UNIX)
                : SocketChannel.open();
        channel.connect(address);
        channel.configureBlocking(false);
        selector = Selector.open();
        channel.register(selector, SelectionKey.OP_READ);
    }

    static byte[] mac(byte[] key, String role, byte[] first, byte[] second) throws Exception {
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(key, "HmacSHA256"));
        mac.update(role.getBytes(StandardCharsets.US_ASCII));
        mac.update(first);
        mac.update(second);
        return mac.doFinal();
    }

    /** Runs the client side of the handshake with {@code key}; returns the server's answer (WELCOME or REFUSED). */
    Frame authenticate(byte[] key) throws Exception {
        Frame challenge = read(Duration.ofSeconds(30));
        if (challenge.type() != ManagerLayout.CHALLENGE) {
            return challenge;
        }
        byte[] nonceS = Arrays.copyOfRange(challenge.payload(), 4, 4 + ManagerLayout.NONCE_BYTES);
        byte[] nonceC = new byte[ManagerLayout.NONCE_BYTES];
        RANDOM.nextBytes(nonceC);
        byte[] response = Arrays.copyOf(mac(key, "client", nonceS, nonceC), 2 * ManagerLayout.NONCE_BYTES);
        System.arraycopy(nonceC, 0, response, ManagerLayout.NONCE_BYTES, ManagerLayout.NONCE_BYTES);
        write(FrameFuzz.frame(ManagerLayout.RESPONSE, response));
        return read(Duration.ofSeconds(30));
    }

    /** @return a CALL frame */
    static byte[] call(long id, String kind, String name, String method, byte[] args) throws IOException {
        var bytes = new ByteArrayOutputStream();
        var out = new DataOutputStream(bytes);
        out.writeLong(id);
        out.writeLong(1);
        out.writeUTF(kind);
        out.writeUTF(name);
        out.writeUTF(method);
        out.writeBoolean(false);
        out.writeInt(args.length);
        out.write(args);
        return FrameFuzz.frame(ManagerLayout.CALL, bytes.toByteArray());
    }

    /** @return arguments as ArgCodec's JDK form, a serialization stream of {@code Object[]} */
    static byte[] jdkArgs(Object... args) throws IOException {
        var bytes = new ByteArrayOutputStream();
        bytes.write(ARGS_JDK);
        try (var out = new ObjectOutputStream(bytes)) {
            out.writeObject(args);
        }
        return bytes.toByteArray();
    }

    void write(byte[] bytes) throws IOException {
        sent.write(bytes);
        ByteBuffer out = ByteBuffer.wrap(bytes);
        while (out.hasRemaining()) {
            if (channel.write(out) == 0) {
                Thread.onSpinWait();
            }
        }
    }

    /** @return every byte written so far: a recording of the session */
    byte[] recording() {
        return sent.toByteArray();
    }

    /** Reads one frame, or fails when none arrives in time or the server closes. */
    Frame read(Duration timeout) throws IOException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            if (in.remaining() >= 5) {
                int length = in.getInt(in.position());
                if (in.remaining() >= 4 + length) {
                    in.getInt();
                    int type = in.get() & 0xFF;
                    byte[] payload = new byte[length - 1];
                    in.get(payload);
                    return new Frame(type, payload);
                }
                if (4 + length > in.capacity()) {
                    ByteBuffer bigger = ByteBuffer.allocate(4 + length);
                    bigger.put(in).flip();
                    in = bigger;
                }
            }
            in.compact();
            try {
                int n = channel.read(in);
                if (n < 0) {
                    throw new java.io.EOFException("the manager closed the connection");
                }
                if (n == 0) {
                    long left = (deadline - System.nanoTime()) / 1_000_000;
                    if (left <= 0) {
                        throw new IOException("no frame within " + timeout);
                    }
                    selector.select(left);
                    selector.selectedKeys().clear();
                }
            } finally {
                in.flip();
            }
        }
    }

    /**
     * Sends the chunks after whatever happened so far, half-closes, and waits for the server to close.
     *
     * @return whether the server closed within the timeout
     */
    boolean sendAndAwaitClose(List<byte[]> chunks, Duration timeout) throws IOException {
        try {
            for (byte[] chunk : chunks) {
                write(chunk);
            }
            channel.shutdownOutput();
        } catch (IOException e) {
            return true;  // closed while we wrote
        }
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() - deadline < 0) {
            try {
                read(Duration.ofNanos(Math.max(1, deadline - System.nanoTime())));
            } catch (java.io.EOFException e) {
                return true;
            } catch (IOException e) {
                if (!channel.isOpen() || e.getMessage() == null || !e.getMessage().startsWith("no frame")) {
                    return true;  // reset
                }
            }
        }
        return false;
    }

    @Override
    public void close() throws IOException {
        selector.close();
        channel.close();
    }
}
