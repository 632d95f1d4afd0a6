package io.multiproc4j.server.internal;

import io.multiproc4j.internal.transport.FrameChannel;
import io.multiproc4j.internal.transport.FrameChannel.PayloadWriter;
import java.io.DataInputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * The server's own messages on the control channel of a server worker. The channel itself, and
 * everything up to it, is core's supervision ({@code internal.supervise.Supervisor}: spawn, the key
 * in the environment, HELLO, start timeout, exit cause; {@code SupervisedChild} on the worker's
 * side, lifeline included): once the worker has proved its key, the supervisor's listener gets the
 * {@link FrameChannel} and these frames follow, core's frame types given these meanings.
 *
 * <pre>
 *  supervisor ─► worker                         worker ─► supervisor
 *  SETUP     {@link Setup}                             (HELLO: core's handshake, before all of these)
 *  BATCH     PING  seq                          READY       listening, app constructed
 *            REQUEST id, {@link Http#encode request}     INIT_FAILED what went wrong (class missing, ...)
 *  SHUTDOWN  stop accepting, finish, exit       RESULTS     PONG seq, served, in flight, busy nanos
 *            (byte: 1 = drain the accept queue)             RESPONSE id, raw HTTP response bytes
 *                                               RETIRING    served its share (maxRequestsPerWorker):
 *                                                           start my successor, then stop me
 * </pre>
 *
 * The worker's lifeline is the channel itself (core's {@code SupervisedChild.startLifeline}): at EOF
 * (the supervisor is gone) the worker halts.
 */
public final class Protocol {
    /** BATCH / RESULTS kind: heartbeat. */
    public static final byte PING = 0;
    /** BATCH / RESULTS kind: an HTTP request (ACCEPTOR) and its response. */
    public static final byte REQUEST = 1;

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
     * @param fdToken     what proves this worker to the {@link FdServer}: a one-time secret of this
     *                    worker's, sent only here, on the channel whose key it proved (else "")
     * @param maxRequests requests after which it asks to be replaced (0: never), jitter included
     * @param threads     requests it runs at once (0: no limit, a virtual thread each)
     */
    public record Setup(String name, boolean http, String className, List<String> classPath, String sharing,
                        String fdSocket, String fdToken, long maxRequests, int threads) {
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
            w.writeUTF(fdToken);
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
            return new Setup(name, http, className, cp, in.readUTF(), in.readUTF(), in.readUTF(), in.readLong(),
                    in.readInt());
        }
    }
}
