package io.multiproc4j.server.internal;

import io.multiproc4j.internal.transport.FrameChannel;
import io.multiproc4j.internal.transport.FrameChannel.PayloadWriter;
import java.io.DataInputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * The control channel between a supervisor and a server worker: core's {@link FrameChannel} over a
 * private Unix-domain socket, with core's frame types given these meanings.
 *
 * <pre>
 *  supervisor ─► worker                         worker ─► supervisor
 *  SETUP     {@link Setup}                             HELLO       key (proves the worker), pid
 *  BATCH     PING  seq                          READY       listening, app constructed
 *            REQUEST id, {@link Http#encode request}     INIT_FAILED what went wrong (class missing, ...)
 *  SHUTDOWN  stop accepting, finish, exit       RESULTS     PONG seq, served, in flight, busy nanos
 *            (byte: 1 = drain the accept queue)             RESPONSE id, raw HTTP response bytes
 *                                               RETIRING    served its share (maxRequestsPerWorker):
 *                                                           start my successor, then stop me
 * </pre>
 *
 * The worker's lifeline is the channel itself: at EOF (the supervisor is gone) the worker halts.
 */
public final class Protocol {
    /** BATCH / RESULTS kind: heartbeat. */
    public static final byte PING = 0;
    /** BATCH / RESULTS kind: an HTTP request (ACCEPTOR) and its response. */
    public static final byte REQUEST = 1;

    /** Environment variable naming the control socket (core's worker uses the same names). */
    public static final String ENV_SOCKET = "MULTIPROC4J_SOCKET";
    /** Environment variable holding the worker's one-time key, hex. */
    public static final String ENV_KEY = "MULTIPROC4J_KEY";

    private Protocol() {}

    /**
     * What a worker is told to be.
     *
     * @param name        its name
     * @param http        whether {@code className} is an HttpHandler (else a ServerApp)
     * @param className   the app or handler class
     * @param classPath   extra class path entries for it (loaded fresh by every worker: a reload runs new code)
     * @param sharing     the PortSharing name
     * @param fdSocket    where to fetch the listening socket (REUSE_PORT, SHARED_SOCKET), else ""
     * @param maxRequests requests after which it asks to be replaced (0: never), jitter included
     * @param threads     requests it runs at once (0: no limit, a virtual thread each)
     */
    public record Setup(String name, boolean http, String className, List<String> classPath, String sharing,
                        String fdSocket, long maxRequests, int threads) {
        /** @return the payload */
        public byte[] encode() throws IOException {
            var w = new PayloadWriter();
            w.writeUTF(name);
            w.writeBoolean(http);
            w.writeUTF(className);
            w.writeInt(classPath.size());
            for (String entry : classPath) {
                w.writeUTF(entry);
            }
            w.writeUTF(sharing);
            w.writeUTF(fdSocket);
            w.writeLong(maxRequests);
            w.writeInt(threads);
            return w.toByteArray();
        }

        /**
         * @param in the payload
         * @return the setup
         * @throws IOException on a malformed payload
         */
        public static Setup decode(DataInputStream in) throws IOException {
            String name = in.readUTF();
            boolean http = in.readBoolean();
            String className = in.readUTF();
            int n = in.readInt();
            List<String> cp = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                cp.add(in.readUTF());
            }
            return new Setup(name, http, className, cp, in.readUTF(), in.readUTF(), in.readLong(), in.readInt());
        }
    }
}
