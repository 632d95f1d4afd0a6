package io.multiproc4j.internal.transport;

import io.multiproc4j.internal.transport.FrameChannel.Frame;
import io.multiproc4j.internal.transport.FrameChannel.PayloadWriter;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.StreamCorruptedException;

/**
 * One message between a pool and a worker JVM, as a record; {@link #write} and {@link #decode} are
 * the only code that knows the bytes, and both ends use them. The layout is drawn in
 * {@link WorkerLayout}.
 */
public sealed interface WorkerMessage {

    /** @return its frame code */
    FrameType type();

    /** @return the exact length of its body (the frame's payload) */
    long length();

    /**
     * Writes its body, exactly {@link #length()} bytes: into a channel's buffer or a ring.
     *
     * @param out where it goes
     * @throws IOException when the peer is gone
     */
    void writeBody(DataOutputStream out) throws IOException;

    /**
     * Writes it into the channel's buffer; the caller flushes.
     *
     * @param channel the channel
     * @throws IOException when the peer is gone
     */
    default void write(FrameChannel channel) throws IOException {
        channel.sendBuffered(type().ordinal(), length(), this::writeBody);
    }

    /**
     * @param frame a received frame
     * @return its message
     * @throws IOException on a malformed frame
     */
    static WorkerMessage decode(Frame frame) throws IOException {
        DataInputStream in = frame.reader();
        FrameType type;
        try {
            type = frame.type();
        } catch (IllegalArgumentException e) {
            throw new StreamCorruptedException(e.getMessage());
        }
        WorkerMessage message = switch (type) {
            case HELLO -> new Hello(FrameChannel.readBytes(in), in.readLong());
            case SETUP -> new Setup(in.readUTF(), in.readUTF(), in.readBoolean(), in.readLong(), FrameChannel.readBytes(in),
                    in.readUTF());
            case READY -> Ready.INSTANCE;
            case INIT_FAILED -> new InitFailed(FrameChannel.readBytes(in));
            case BATCH -> new BatchMessage(in.readLong(), in.readLong(), FrameChannel.readBytes(in), in.readLong(),
                    FrameChannel.readBytes(in));
            case RESULTS -> Results.read(frame.payload(), in);
            case FAILED -> new Failed(in.readLong(), in.readInt(), FrameChannel.readBytes(in));
            case RETIRING -> Retiring.INSTANCE;
            case SHUTDOWN -> Shutdown.INSTANCE;
            case RECALL -> new Recall(in.readLong());
            case RECALLED -> new Recalled(in.readLong(), in.readBoolean());
            // a ring's bell, not a message: WorkerLink's reader takes it before decoding
            case DOORBELL -> throw new StreamCorruptedException("a DOORBELL frame where a message was expected");
        };
        if (in.available() > 0) {
            throw new StreamCorruptedException(type + " frame has " + in.available() + " bytes too many");
        }
        return message;
    }

    private static int sizeOf(byte[] bytes) {
        return 4 + (bytes == null ? 0 : bytes.length);
    }

    private static void bytes(DataOutputStream out, byte[] bytes) throws IOException {
        if (bytes == null) {
            out.writeInt(-1);
        } else {
            out.writeInt(bytes.length);
            out.write(bytes);
        }
    }


    /**
     * @param key the one-time key from the worker's environment
     * @param pid the worker's pid
     */
    record Hello(byte[] key, long pid) implements WorkerMessage {
        @Override
        public FrameType type() {
            return FrameType.HELLO;
        }

        @Override
        public long length() {
            return sizeOf(key) + 8;
        }

        @Override
        public void writeBody(DataOutputStream out) throws IOException {
            bytes(out, key);
            out.writeLong(pid);
        }
    }

    /**
     * @param codecClass       the codec's class name; the worker makes its own
     * @param workerName       the worker's name
     * @param streamResults    send each result at once (a task timeout reads progress)
     * @param maxResidentBytes retire past this resident size; 0 = never
     * @param initializer      the encoded initializer, or null
     * @param rings            the name of the shared-memory segment holding this worker's rings
     *                         ({@link WorkerRings}), or "" for the socket alone
     */
    record Setup(String codecClass, String workerName, boolean streamResults, long maxResidentBytes,
                 byte[] initializer, String rings) implements WorkerMessage {
        /** The socket alone, no rings. */
        public Setup(String codecClass, String workerName, boolean streamResults, long maxResidentBytes,
                     byte[] initializer) {
            this(codecClass, workerName, streamResults, maxResidentBytes, initializer, "");
        }

        @Override
        public FrameType type() {
            return FrameType.SETUP;
        }

        private byte[] encoded() throws IOException {
            var w = new PayloadWriter();
            w.writeUTF(codecClass);
            w.writeUTF(workerName);
            w.writeBoolean(streamResults);
            w.writeLong(maxResidentBytes);
            w.bytes(initializer);
            w.writeUTF(rings);
            return w.toByteArray();
        }

        @Override
        public long length() {
            try {
                return encoded().length;
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e); // a string over 64 KiB of UTF-8: written by no caller
            }
        }

        @Override
        public void writeBody(DataOutputStream out) throws IOException {
            out.write(encoded());
        }
    }

    /** The initializer ran; the worker takes batches. */
    enum Ready implements WorkerMessage {
        INSTANCE;

        @Override
        public FrameType type() {
            return FrameType.READY;
        }

        @Override
        public long length() {
            return 0;
        }

        @Override
        public void writeBody(DataOutputStream out) {
            // no body
        }
    }

    /** @param failure the initializer's failure, encoded by {@code RemoteFailure} */
    record InitFailed(byte[] failure) implements WorkerMessage {
        @Override
        public FrameType type() {
            return FrameType.INIT_FAILED;
        }

        @Override
        public long length() {
            return sizeOf(failure);
        }

        @Override
        public void writeBody(DataOutputStream out) throws IOException {
            bytes(out, failure);
        }
    }

    /**
     * A chunk to run. Written straight into the channel's buffer: the inputs may be megabytes.
     *
     * @param batchId    the parent's id of this dispatch
     * @param functionId the function's id in the worker's function table
     * @param function   the function's bytes, or null when the worker holds it
     * @param forget     a function id to drop from the table first, or -1
     * @param inputs     the encoded inputs
     */
    record BatchMessage(long batchId, long functionId, byte[] function, long forget, byte[] inputs)
            implements WorkerMessage {
        @Override
        public FrameType type() {
            return FrameType.BATCH;
        }

        @Override
        public long length() {
            return 8 + 8 + sizeOf(function) + 8 + sizeOf(inputs);
        }

        @Override
        public void writeBody(DataOutputStream out) throws IOException {
            out.writeLong(batchId);
            out.writeLong(functionId);
            bytes(out, function);
            out.writeLong(forget);
            bytes(out, inputs);
        }
    }

    /**
     * Results, as {@code size} bytes of {@code bytes} from {@code at}: a received message's are
     * a view of its frame's payload, an array of its own (perf, map5: a map's results are megabytes, read from the
     * socket once and not copied again before the pool decodes them).
     *
     * @param batchId the batch
     * @param offset  the index within the batch of the first result
     * @param bytes   holds the encoded list of results
     * @param at      where in {@code bytes} it starts
     * @param size    its length
     */
    record Results(long batchId, int offset, byte[] bytes, int at, int size) implements WorkerMessage {
        /** The layout's bytes before the results: batch id, offset, length. */
        private static final int HEADER = 8 + 4 + 4;

        /**
         * @param batchId the batch
         * @param offset  the index within the batch of the first result
         * @param results the encoded list of results
         */
        public Results(long batchId, int offset, byte[] results) {
            this(batchId, offset, results, 0, results.length);
        }

        public Results {
            java.util.Objects.checkFromIndexSize(at, size, bytes.length);
        }

        private static Results read(byte[] payload, DataInputStream in) throws IOException {
            long batchId = in.readLong();
            int offset = in.readInt();
            int length = in.readInt();
            if (length < 0 || length > in.available()) {
                throw new StreamCorruptedException("a RESULTS frame announces " + length + " bytes of results and holds "
                        + in.available());
            }
            in.skipNBytes(length);
            return new Results(batchId, offset, payload, HEADER, length);
        }

        /** @return the encoded results as an array of their own (a copy when they are a view) */
        public byte[] results() {
            return at == 0 && size == bytes.length ? bytes : java.util.Arrays.copyOfRange(bytes, at, at + size);
        }

        @Override
        public FrameType type() {
            return FrameType.RESULTS;
        }

        @Override
        public long length() {
            return HEADER + size;
        }

        @Override
        public void writeBody(DataOutputStream out) throws IOException {
            out.writeLong(batchId);
            out.writeInt(offset);
            out.writeInt(size);
            out.write(bytes, at, size);
        }
    }

    /**
     * @param batchId the batch
     * @param offset  the index within the batch of the input that failed
     * @param failure the failure, encoded by {@code RemoteFailure}
     */
    record Failed(long batchId, int offset, byte[] failure) implements WorkerMessage {
        @Override
        public FrameType type() {
            return FrameType.FAILED;
        }

        @Override
        public long length() {
            return 8 + 4 + sizeOf(failure);
        }

        @Override
        public void writeBody(DataOutputStream out) throws IOException {
            out.writeLong(batchId);
            out.writeInt(offset);
            bytes(out, failure);
        }
    }

    /** Past its memory limit: runs nothing more and exits. */
    enum Retiring implements WorkerMessage {
        INSTANCE;

        @Override
        public FrameType type() {
            return FrameType.RETIRING;
        }

        @Override
        public long length() {
            return 0;
        }

        @Override
        public void writeBody(DataOutputStream out) {
            // no body
        }
    }

    /** Finish what is queued, then exit. */
    enum Shutdown implements WorkerMessage {
        INSTANCE;

        @Override
        public FrameType type() {
            return FrameType.SHUTDOWN;
        }

        @Override
        public long length() {
            return 0;
        }

        @Override
        public void writeBody(DataOutputStream out) {
            // no body
        }
    }

    /** @param batchId the batch to give back if it has not started */
    record Recall(long batchId) implements WorkerMessage {
        @Override
        public FrameType type() {
            return FrameType.RECALL;
        }

        @Override
        public long length() {
            return 8;
        }

        @Override
        public void writeBody(DataOutputStream out) throws IOException {
            out.writeLong(batchId);
        }
    }

    /**
     * @param batchId   the batch named by RECALL
     * @param recalled  {@code true} when it had not started and never will here; {@code false} when
     *                  it has started (its results come as usual)
     */
    record Recalled(long batchId, boolean recalled) implements WorkerMessage {
        @Override
        public FrameType type() {
            return FrameType.RECALLED;
        }

        @Override
        public long length() {
            return 9;
        }

        @Override
        public void writeBody(DataOutputStream out) throws IOException {
            out.writeLong(batchId);
            out.writeBoolean(recalled);
        }
    }
}
