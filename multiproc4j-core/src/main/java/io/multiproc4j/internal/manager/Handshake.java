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
 *
 * <p>A client proves either the key ({@code RESPONSE}) or a {@link ProxyCapability} the manager
 * issued ({@code CAPABILITY}: the capability's id, then the same MAC made with its secret). The
 * server checks a response before it reads anything else from the client, and deserializes nothing
 * here: every field has a fixed length.
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
     * @param maxFrame     the largest message this server accepts, told to the client in WELCOME
     * @param capabilities the live capability with a given id (hex), or {@code null}
     * @return the capability the client proved, or {@code null} when it proved the key
     */
    static ProxyCapability server(ManagerChannel channel, byte[] key, int maxFrame,
            java.util.function.Function<String, ProxyCapability> capabilities) throws IOException {
        byte[] nonceS = nonce();
        var challenge = new java.io.ByteArrayOutputStream();
        var w = new java.io.DataOutputStream(challenge);
        w.writeInt(ManagerLayout.VERSION);
        w.write(nonceS);
        channel.send(ManagerLayout.CHALLENGE, challenge.toByteArray());
        ManagerChannel.Frame response = channel.receive();
        byte[] payload = response.payload();
        ProxyCapability capability = null;
        byte[] secret = key;
        int macAt = 0;
        if (response.type() == ManagerLayout.CAPABILITY
                && payload.length == ProxyCapability.ID_BYTES + 2 * ManagerLayout.NONCE_BYTES) {
            String id = java.util.HexFormat.of().formatHex(payload, 0, ProxyCapability.ID_BYTES);
            capability = capabilities.apply(id);
            if (capability == null) {
                String reason = "authentication failed: this proxy's capability " + id + " is not valid here (it was "
                        + "revoked, the connection that issued it has closed, or it belongs to another manager or to "
                        + "one that restarted); get a fresh proxy from a process that holds the manager's key";
                channel.send(ManagerLayout.REFUSED, reason.getBytes(StandardCharsets.UTF_8));
                throw new Refused(reason);
            }
            secret = capability.secret();
            macAt = ProxyCapability.ID_BYTES;
        } else if (response.type() != ManagerLayout.RESPONSE || payload.length != 2 * ManagerLayout.NONCE_BYTES) {
            throw new StreamCorruptedException("expected an authentication response, got frame type " + response.type()
                    + " with " + payload.length + " bytes");
        }
        byte[] macC = java.util.Arrays.copyOfRange(payload, macAt, macAt + ManagerLayout.NONCE_BYTES);
        byte[] nonceC = java.util.Arrays.copyOfRange(payload, macAt + ManagerLayout.NONCE_BYTES,
                macAt + 2 * ManagerLayout.NONCE_BYTES);
        if (!MessageDigest.isEqual(macC, mac(secret, "client", nonceS, nonceC))) {
            String reason = capability == null
                    ? "authentication failed: the client's key does not match this manager's key"
                    : "authentication failed: the client does not hold the secret of " + capability;
            channel.send(ManagerLayout.REFUSED, reason.getBytes(StandardCharsets.UTF_8));
            throw new Refused(reason);
        }
        byte[] welcome = java.util.Arrays.copyOf(mac(secret, "server", nonceC, nonceS), ManagerLayout.NONCE_BYTES + 4);
        java.nio.ByteBuffer.wrap(welcome, ManagerLayout.NONCE_BYTES, 4).putInt(maxFrame);
        channel.send(ManagerLayout.WELCOME, welcome);
        return capability;
    }

    /**
     * @param key        the manager's key, or {@code null} when the client proves a capability
     * @param capability what the client proves when it has no key
     * @return the largest message the server accepts
     */
    static int client(ManagerChannel channel, byte[] key, ProxyCapability capability, String address)
            throws IOException {
        byte[] secret = key != null ? key : capability.secret();
        ManagerChannel.Frame challenge = channel.receive();
        if (challenge.type() == ManagerLayout.REFUSED) {
            throw new ManagerAuthenticationException("the manager at " + address + " refused this client: "
                    + new String(challenge.payload(), StandardCharsets.UTF_8));
        }
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
        int macAt = key != null ? 0 : ProxyCapability.ID_BYTES;
        byte[] response = new byte[macAt + 2 * ManagerLayout.NONCE_BYTES];
        if (key == null) {
            System.arraycopy(capability.id(), 0, response, 0, ProxyCapability.ID_BYTES);
        }
        System.arraycopy(mac(secret, "client", nonceS, nonceC), 0, response, macAt, ManagerLayout.NONCE_BYTES);
        System.arraycopy(nonceC, 0, response, macAt + ManagerLayout.NONCE_BYTES, ManagerLayout.NONCE_BYTES);
        channel.send(key != null ? ManagerLayout.RESPONSE : ManagerLayout.CAPABILITY, response);
        ManagerChannel.Frame answer = channel.receive();
        if (answer.type() == ManagerLayout.REFUSED) {
            throw new ManagerAuthenticationException("the manager at " + address + " refused this client: "
                    + new String(answer.payload(), StandardCharsets.UTF_8)
                    + (key != null ? "; use the key the manager was started with" : ""));
        }
        if (answer.type() != ManagerLayout.WELCOME || answer.payload().length != ManagerLayout.NONCE_BYTES + 4
                || !MessageDigest.isEqual(java.util.Arrays.copyOf(answer.payload(), ManagerLayout.NONCE_BYTES),
                        mac(secret, "server", nonceC, nonceS))) {
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
