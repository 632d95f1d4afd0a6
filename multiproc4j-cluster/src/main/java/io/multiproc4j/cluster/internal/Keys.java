package io.multiproc4j.cluster.internal;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.HexFormat;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Everything the cluster key is used for. The key itself never travels: members and clients
 * derive from it the Hazelcast cluster name, a proof of membership per member address, and an
 * HMAC-SHA256 over every task and result payload. Each use has its own label, so a value made for
 * one purpose is never valid for another (a result MAC cannot pass as a task MAC).
 */
public final class Keys {
    /** The fewest key bytes accepted. */
    public static final int MIN_KEY_BYTES = 16;
    private static final String ALGORITHM = "HmacSHA256";
    /** Bytes of a MAC. */
    public static final int MAC_BYTES = 32;

    private final SecretKeySpec key;
    private final ThreadLocal<Mac> macs;

    /**
     * @param key the shared key
     * @throws IllegalArgumentException when it is shorter than {@link #MIN_KEY_BYTES}
     */
    public Keys(byte[] key) {
        if (key == null || key.length < MIN_KEY_BYTES) {
            throw new IllegalArgumentException("the cluster key must have at least " + MIN_KEY_BYTES + " bytes, had "
                    + (key == null ? "none" : key.length) + " (make one with: head -c 32 /dev/urandom > key)");
        }
        this.key = new SecretKeySpec(key.clone(), ALGORITHM);
        this.macs = ThreadLocal.withInitial(this::newMac);
    }

    private Mac newMac() {
        try {
            Mac mac = Mac.getInstance(ALGORITHM);
            mac.init(key);
            return mac;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("this JVM has no " + ALGORITHM, e);
        }
    }

    /**
     * @param label what the MAC is for
     * @param parts the bytes it covers, in order
     * @return HMAC-SHA256(key, label ‖ 0 ‖ parts...)
     */
    public byte[] mac(String label, byte[]... parts) {
        Mac mac = macs.get();
        mac.update(label.getBytes(StandardCharsets.UTF_8));
        mac.update((byte) 0);
        for (byte[] part : parts) {
            mac.update(part);
        }
        return mac.doFinal();
    }

    /**
     * @param expected a MAC made here
     * @param received a MAC that arrived
     * @return whether they are equal, in time that does not depend on where they differ
     */
    public static boolean same(byte[] expected, byte[] received) {
        return received != null && MessageDigest.isEqual(expected, received);
    }

    /**
     * The Hazelcast cluster name: the user's name and a tag derived from the key, so members and
     * clients with another key form or find another cluster and never exchange work with ours.
     *
     * @param name the user's cluster name
     * @return {@code name-<16 hex digits>}
     */
    public String clusterName(String name) {
        byte[] tag = mac("cluster-name", name.getBytes(StandardCharsets.UTF_8));
        return name + "-" + HexFormat.of().formatHex(tag, 0, 8);
    }

    /**
     * What a member publishes (as a member attribute) to show it holds the key; bound to its
     * address, so it cannot be copied to a member elsewhere.
     *
     * @param hostAndPort the member's address, {@code host:port}
     * @return the proof, hex
     */
    public String memberProof(String hostAndPort) {
        return HexFormat.of().formatHex(mac("member", hostAndPort.getBytes(StandardCharsets.UTF_8)));
    }
}
