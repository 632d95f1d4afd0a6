package io.multiproc4j.cluster.internal;

import com.hazelcast.nio.ObjectDataInput;
import com.hazelcast.nio.ObjectDataOutput;
import com.hazelcast.nio.serialization.DataSerializableFactory;
import com.hazelcast.nio.serialization.IdentifiedDataSerializable;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.concurrent.Callable;

/**
 * What travels between a client and a member for each chunk. Hazelcast sees only two
 * {@link IdentifiedDataSerializable} envelopes made of byte arrays, so Hazelcast itself never
 * Java-deserializes anything of ours; our code decodes a payload only after its MAC checked out.
 *
 * <pre>
 * Task   = payload ‖ mac,  mac = HMAC(key, "task" ‖ 0 ‖ payload)
 *   payload: long nonce │ long issuedAt (epoch ms, the member's clock as the client estimates it) │ long firstIndex
 *            │ long timeoutNanos (0 = none) │ UTF allowed packages (';'-separated)
 *            │ int n, n bytes function (codec) │ int n, n bytes inputs (codec, a List)
 * Reply  = payload ‖ mac,  mac = HMAC(key, "result" ‖ 0 ‖ payload)
 *   payload: long nonce (the task's) │ byte status │ UTF member name │ long pid │ body
 *   body:  OK      int n, n bytes results (codec, a List)
 *          FAILED  int offset │ int n, n bytes results before it │ int n, n bytes failure (codec, a Throwable)
 *          REFUSED UTF reason (the MAC did not check out, the payload could not be decoded, or the
 *                  task is a replay of one the member accepted)
 *          STALE   long the member's time (epoch ms) │ UTF reason: issuedAt is outside the member's
 *                  replay window; the client re-signs the chunk with the member's time and sends it again
 * </pre>
 *
 * The nonce ties a reply to the task it answers: a reply replayed for another task fails its check.
 * A task replayed to a member is refused ({@link ReplayGuard}).
 */
public final class Wire {
    /** Hazelcast factory id of our envelopes. */
    public static final int FACTORY_ID = 0x6d70346a; // "mp4j"
    static final int TASK = 1;
    static final int REPLY = 2;
    static final int COUNTER = 3;

    /** Reply status. */
    static final byte OK = 0, FAILED = 1, REFUSED = 2, STALE = 3;

    private Wire() {}

    /** @return the factory to register in member and client configs */
    public static DataSerializableFactory factory() {
        return typeId -> switch (typeId) {
            case TASK -> new ChunkTask();
            case REPLY -> new ChunkReply();
            case COUNTER -> new CounterUpdate();
            default -> null;
        };
    }

    static void writeBytes(DataOutputStream out, byte[] bytes) throws IOException {
        out.writeInt(bytes.length);
        out.write(bytes);
    }

    static byte[] readBytes(DataInputStream in) throws IOException {
        int n = in.readInt();
        if (n < 0 || n > in.available()) {
            throw new IOException("malformed payload: a field of " + n + " bytes, " + in.available() + " left");
        }
        return in.readNBytes(n);
    }

    /** An output that yields its bytes. */
    static final class Out extends DataOutputStream {
        Out() {
            super(new ByteArrayOutputStream(256));
        }

        byte[] toByteArray() throws IOException {
            flush();
            return ((ByteArrayOutputStream) out).toByteArray();
        }
    }

    /** A payload and its MAC, as Hazelcast carries them: two byte arrays, nothing of ours decoded. */
    abstract static class Signed implements IdentifiedDataSerializable {
        byte[] payload;
        byte[] mac;

        Signed() {}

        Signed(byte[] payload, byte[] mac) {
            this.payload = payload;
            this.mac = mac;
        }

        @Override
        public int getFactoryId() {
            return FACTORY_ID;
        }

        @Override
        public void writeData(ObjectDataOutput out) throws IOException {
            out.writeByteArray(payload);
            out.writeByteArray(mac);
        }

        @Override
        public void readData(ObjectDataInput in) throws IOException {
            payload = in.readByteArray();
            mac = in.readByteArray();
        }
    }

    /** The task envelope: runs on the member through the member's {@link WorkerRuntime}. */
    public static final class ChunkTask extends Signed implements Callable<ChunkReply> {
        /** For Hazelcast. */
        public ChunkTask() {}

        ChunkTask(byte[] payload, byte[] mac) {
            super(payload, mac);
        }

        @Override
        public ChunkReply call() {
            return WorkerRuntime.require().run(this);
        }

        @Override
        public int getClassId() {
            return TASK;
        }
    }

    /** The reply envelope. */
    public static final class ChunkReply extends Signed {
        /** For Hazelcast. */
        public ChunkReply() {}

        ChunkReply(byte[] payload, byte[] mac) {
            super(payload, mac);
        }

        @Override
        public int getClassId() {
            return REPLY;
        }
    }
}
