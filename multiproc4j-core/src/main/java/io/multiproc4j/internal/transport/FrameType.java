package io.multiproc4j.internal.transport;

/**
 * The messages between a pool and a worker JVM. See {@link FrameChannel} for the framing.
 *
 * <pre>
 *  parent ─► worker                          worker ─► parent
 *  SETUP     codec, worker name, stream      HELLO        key (proves the worker), pid
 *            flag, memory limit, initializer READY        initializer done
 *  BATCH     id, fn id, [fn bytes],          INIT_FAILED  failure
 *            fn id to forget, inputs         RESULTS      id, offset, encoded list
 *  SHUTDOWN  finish queued batches, exit     FAILED       id, offset, failure
 *                                            RETIRING     past its memory limit: runs no more
 *                                                         batches and exits; requeue what it held
 * </pre>
 */
public enum FrameType {
    HELLO, SETUP, READY, INIT_FAILED, BATCH, RESULTS, FAILED, RETIRING, SHUTDOWN;

    private static final FrameType[] VALUES = values();

    /**
     * @param code a frame's type byte
     * @return its type
     */
    public static FrameType of(int code) {
        if (code < 0 || code >= VALUES.length) {
            throw new IllegalArgumentException("unknown frame type " + code);
        }
        return VALUES[code];
    }
}
