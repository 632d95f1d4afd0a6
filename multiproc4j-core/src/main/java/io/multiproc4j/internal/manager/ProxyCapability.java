package io.multiproc4j.internal.manager;

import java.io.Serial;
import java.io.Serializable;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.HexFormat;

/**
 * What a serialized proxy carries instead of the manager's key: a random id and a random secret
 * that the manager issued to one authenticated connection, and that it forgets when that
 * connection ends or its holder revokes it ({@code Manager.revokeSerializedProxies()}).
 *
 * <pre>
 *  key holder ──$grant──► manager: new (id, secret), remembered for the holder's connection
 *  proxy bytes ─────────► (address, kind, name, id, secret)      never the key
 *  receiving JVM ───────► CAPABILITY id │ HMAC(secret, "client" │ nonceS │ nonceC) │ nonceC
 *  manager ─────────────► WELCOME HMAC(secret, "server" │ nonceC │ nonceS) │ maxFrame,  or REFUSED
 * </pre>
 *
 * The secret proves the capability without crossing the wire, as the key does. Whoever holds the
 * bytes of a serialized proxy can connect while the capability lives; revoking it disconnects the
 * processes that connected with it and turns every copy of those bytes into a refusal, while the
 * key itself never leaves the processes it was given to. A connection made with a capability
 * hands the same capability on (it cannot mint new ones), so one revocation reaches every copy.
 */
public final class ProxyCapability implements Serializable {
    @Serial
    private static final long serialVersionUID = 1L;
    /** Length of a capability's id. */
    public static final int ID_BYTES = 16;
    /** Length of a capability's secret. */
    public static final int SECRET_BYTES = 32;
    private static final SecureRandom RANDOM = new SecureRandom();

    private final byte[] id;
    private final byte[] secret;

    ProxyCapability(byte[] id, byte[] secret) {
        if (id.length != ID_BYTES || secret.length != SECRET_BYTES) {
            throw new IllegalArgumentException("a capability has a " + ID_BYTES + "-byte id and a " + SECRET_BYTES
                    + "-byte secret");
        }
        this.id = id.clone();
        this.secret = secret.clone();
    }

    static ProxyCapability random() {
        byte[] id = new byte[ID_BYTES];
        byte[] secret = new byte[SECRET_BYTES];
        RANDOM.nextBytes(id);
        RANDOM.nextBytes(secret);
        return new ProxyCapability(id, secret);
    }

    /** @return id then secret, as {@code $grant} answers */
    byte[] toBytes() {
        byte[] both = Arrays.copyOf(id, ID_BYTES + SECRET_BYTES);
        System.arraycopy(secret, 0, both, ID_BYTES, SECRET_BYTES);
        return both;
    }

    static ProxyCapability fromBytes(byte[] both) {
        if (both == null || both.length != ID_BYTES + SECRET_BYTES) {
            throw new IllegalArgumentException("not a proxy capability");
        }
        return new ProxyCapability(Arrays.copyOf(both, ID_BYTES), Arrays.copyOfRange(both, ID_BYTES, both.length));
    }

    byte[] id() {
        return id.clone();
    }

    byte[] secret() {
        return secret.clone();
    }

    /** @return the id as hex: how the server and the client cache name it (the secret stays out) */
    String idHex() {
        return HexFormat.of().formatHex(id);
    }

    @Serial
    private void readObject(java.io.ObjectInputStream in) throws java.io.IOException, ClassNotFoundException {
        in.defaultReadObject();
        if (id == null || secret == null || id.length != ID_BYTES || secret.length != SECRET_BYTES) {
            throw new java.io.InvalidObjectException("a proxy capability has a " + ID_BYTES + "-byte id and a "
                    + SECRET_BYTES + "-byte secret");
        }
    }

    @Override
    public String toString() {
        return "capability " + idHex();  // never the secret: this string may reach a log
    }
}
