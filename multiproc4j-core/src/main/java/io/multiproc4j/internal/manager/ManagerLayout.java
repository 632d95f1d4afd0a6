package io.multiproc4j.internal.manager;

/**
 * The manager protocol on the wire. Frames are in the one layout of every multiproc4j socket
 * ({@link io.multiproc4j.internal.transport.Framing}); the manager keeps its own channel
 * ({@link ManagerChannel}) because any user thread sends on it and it listens on network ports: it
 * needs a non-blocking socket, a tiny frame limit until the peer has proved the key, and its own
 * frame codes.
 *
 * <pre>
 *  frame:   ┌──────────────┬───────────┬───────────────────────────┐
 *           │ int length n │ byte type │ n - 1 bytes of payload    │   n - 1 ≤ limit
 *           └──────────────┴───────────┴───────────────────────────┘
 *           limit = {@link #HANDSHAKE_LIMIT} before authentication, the server's maxFrameBytes after
 *
 *  handshake (both directions prove the key; it never crosses the wire):
 *   server ─► CHALLENGE  int version │ 32 bytes nonceS
 *   client ─► RESPONSE   32 bytes HMAC(key, "client" │ nonceS │ nonceC) │ 32 bytes nonceC
 *          or CAPABILITY 16 bytes id │ 32 bytes HMAC(secret, "client" │ nonceS │ nonceC) │ 32 bytes nonceC
 *                        (a process that got a proxy by serialization: {@link ProxyCapability};
 *                         the server's WELCOME MAC is then made with the secret too)
 *   server ─► WELCOME    32 bytes HMAC(key, "server" │ nonceC │ nonceS) │ int maxFrame   (client checks the MAC)
 *          or REFUSED    UTF reason, then the server closes
 *
 *  calls (any number in flight on one connection, each answered once):
 *   client ─► CALL    long id │ long caller thread │ UTF kind │ UTF name │ UTF method │ bool may block │ bytes args
 *                     (args: {@link ArgCodec}: tagged simple values, or a JDK serialization stream of
 *                      Object[] that the server reads through its allowlist filter; a call that may
 *                      block runs on its own virtual thread, any other on the connection's thread)
 *   client ─► CANCEL  long id            (the caller was interrupted: interrupt the server thread)
 *   server ─► REPLY   long id │ byte status │ bytes body
 *                     status VALUE: body = the result, {@link io.multiproc4j.spi.Codec#standard()}
 *                            THROWN: body = {@link io.multiproc4j.internal.codec.RemoteFailure}
 *                            REFUSED: body = UTF-8 reason (allowlist, unknown object or method)
 *
 *  manager operations are CALLs of kind "$manager": $ping, $register, $grant (answers the capability
 *  this connection hands to the proxies it serializes: 16 bytes id │ 32 bytes secret), $revoke
 * </pre>
 *
 * A method is named {@code name(param,param)} with the parameters' binary class names, so that
 * overloads ({@code remove(int)} against {@code remove(java.lang.Object)}) resolve exactly.
 */
public final class ManagerLayout {
    private ManagerLayout() {}

    /** Protocol version, sent in the challenge. */
    public static final int VERSION = 1;
    /** Length of nonces and MACs. */
    public static final int NONCE_BYTES = 32;
    /** The largest frame a peer may send before it has proved the key. */
    public static final int HANDSHAKE_LIMIT = 1024;
    /** The default largest frame after authentication: 64 MiB. */
    public static final int DEFAULT_MAX_FRAME = 64 << 20;

    /** Frame types. */
    public static final byte CHALLENGE = 1, RESPONSE = 2, WELCOME = 3, REFUSED = 4, CALL = 5, CANCEL = 6,
            REPLY = 7, CAPABILITY = 8;

    /** Reply statuses. */
    public static final byte STATUS_VALUE = 0, STATUS_THROWN = 1, STATUS_REFUSED = 2;
}
