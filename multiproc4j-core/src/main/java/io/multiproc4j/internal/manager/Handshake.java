package io.multiproc4j.internal.manager;

import io.multiproc4j.manager.ManagerAuthenticationException;
import java.io.IOException;
import java.io.DataInputStream;
import java.io.StreamCorruptedException;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * HMAC-SHA256 challenge–response in both directions (layout in {@link ManagerLayout}). Each side
 * proves it holds the key by a MAC over a fresh nonce chosen by the other side, so a recorded
 * exchange cannot be replayed and the key never crosses the wire. MACs are compared in constant
 * time.
 */
final class Handshake {
    private static final SecureRandom RANDOM = new SecureRandom();

    private Handshake() {}

    /** The server failed to authenticate a client; the reason was sent to it. */
    static final class Refused extends IOException {
        private static final long serialVersionUID = 1L;

        Refused(String message) {
            super(message);
        }
    }

    /**
     * @param maxFrame the largest message this server accepts, told to the client in WELCOME
     */
    static void server(ManagerChannel channel, byte[] key, int maxFrame) throws IOException {
        byte[] nonceS = nonce();
        var challenge = new java.io.ByteArrayOutputStream();
        var w = new java.io.DataOutputStream(challenge);
        w.writeInt(ManagerLayout.VERSION);
        w.write(nonceS);
        channel.send(ManagerLayout.CHALLENGE, challenge.toByteArray());
        ManagerChannel.Frame response = channel.receive();
        if (response.type() != ManagerLayout.RESPONSE
                || response.payload().length != 2 * ManagerLayout.NONCE_BYTES) {
            throw new StreamCorruptedException("expected an authentication response, got frame type " + response.type());
        }
        byte[] macC = java.util.Arrays.copyOfRange(response.payload(), 0, ManagerLayout.NONCE_BYTES);
        byte[] nonceC = java.util.Arrays.copyOfRange(response.payload(), ManagerLayout.NONCE_BYTES,
                2 * ManagerLayout.NONCE_BYTES);
        if (!MessageDigest.isEqual(macC, mac(key, "client", nonceS, nonceC))) {
            String reason = "authentication failed: the client's key does not match this manager's key";
            channel.send(ManagerLayout.REFUSED, reason.getBytes(StandardCharsets.UTF_8));
            throw new Refused(reason);
        }
        byte[] welcome = java.util.Arrays.copyOf(mac(key, "server", nonceC, nonceS), ManagerLayout.NONCE_BYTES + 4);
        java.nio.ByteBuffer.wrap(welcome, ManagerLayout.NONCE_BYTES, 4).putInt(maxFrame);
        channel.send(ManagerLayout.WELCOME, welcome);
    }

    /** @return the largest message the server accepts */
    static int client(ManagerChannel channel, byte[] key, String address) throws IOException {
        ManagerChannel.Frame challenge = channel.receive();
        if (challenge.type() != ManagerLayout.CHALLENGE) {
            throw new StreamCorruptedException(address + " is not a multiproc4j manager (frame type " + challenge.type() + ")");
        }
        DataInputStream in = challenge.reader();
        int version = in.readInt();
        if (version != ManagerLayout.VERSION) {
            throw new StreamCorruptedException("the manager at " + address + " speaks protocol " + version
                    + ", this library speaks " + ManagerLayout.VERSION + "; use the same multiproc4j version on both sides");
        }
        byte[] nonceS = in.readNBytes(ManagerLayout.NONCE_BYTES);
        byte[] nonceC = nonce();
        byte[] response = new byte[2 * ManagerLayout.NONCE_BYTES];
        System.arraycopy(mac(key, "client", nonceS, nonceC), 0, response, 0, ManagerLayout.NONCE_BYTES);
        System.arraycopy(nonceC, 0, response, ManagerLayout.NONCE_BYTES, ManagerLayout.NONCE_BYTES);
        channel.send(ManagerLayout.RESPONSE, response);
        ManagerChannel.Frame answer = channel.receive();
        if (answer.type() == ManagerLayout.REFUSED) {
            throw new ManagerAuthenticationException("the manager at " + address + " refused this client: "
                    + new String(answer.payload(), StandardCharsets.UTF_8)
                    + "; use the key the manager was started with");
        }
        if (answer.type() != ManagerLayout.WELCOME || answer.payload().length != ManagerLayout.NONCE_BYTES + 4
                || !MessageDigest.isEqual(java.util.Arrays.copyOf(answer.payload(), ManagerLayout.NONCE_BYTES),
                        mac(key, "server", nonceC, nonceS))) {
            throw new ManagerAuthenticationException("the server at " + address
                    + " could not prove that it holds our key: it is not the manager we meant, or its key differs");
        }
        return java.nio.ByteBuffer.wrap(answer.payload(), ManagerLayout.NONCE_BYTES, 4).getInt();
    }

    private static byte[] nonce() {
        byte[] n = new byte[ManagerLayout.NONCE_BYTES];
        RANDOM.nextBytes(n);
        return n;
    }

    static byte[] mac(byte[] key, String role, byte[] first, byte[] second) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            mac.update(role.getBytes(StandardCharsets.US_ASCII));
            mac.update(first);
            mac.update(second);
            return mac.doFinal();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is missing from this JDK", e);
        }
    }
}
