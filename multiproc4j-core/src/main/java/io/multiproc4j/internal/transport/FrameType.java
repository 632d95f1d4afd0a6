package io.multiproc4j.internal.transport;

/**
 * The codes of the messages between a pool and a worker JVM: the frame's code byte is the ordinal.
 * Their fields and byte layout are drawn in {@link WorkerLayout}; {@link WorkerMessage} encodes and
 * decodes them, on both ends.
 */
public enum FrameType {
    HELLO, SETUP, READY, INIT_FAILED, BATCH, RESULTS, FAILED, RETIRING, SHUTDOWN, RECALL, RECALLED, DOORBELL;

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
