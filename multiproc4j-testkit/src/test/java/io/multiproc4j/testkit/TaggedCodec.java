package io.multiproc4j.testkit;

import io.multiproc4j.spi.Codec;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.io.StreamCorruptedException;

/**
 * A codec other than the standard one: JDK serialization behind a tag byte, so bytes of either
 * codec are refused by the other. Public with a no-argument constructor: worker JVMs make their own.
 */
public final class TaggedCodec implements Codec {
    private static final int TAG = 0x7A;

    /** A codec. */
    public TaggedCodec() {}

    @Override
    public byte[] encode(Object value) throws IOException {
        var bytes = new ByteArrayOutputStream();
        bytes.write(TAG);
        try (var out = new ObjectOutputStream(bytes)) {
            out.writeObject(value);
        }
        return bytes.toByteArray();
    }

    @Override
    public Object decode(byte[] bytes) throws IOException, ClassNotFoundException {
        if (bytes.length == 0 || bytes[0] != TAG) {
            throw new StreamCorruptedException("not TaggedCodec bytes (first byte " + (bytes.length == 0 ? "none" : bytes[0]) + ")");
        }
        try (var in = new ObjectInputStream(new ByteArrayInputStream(bytes, 1, bytes.length - 1))) {
            return in.readObject();
        }
    }
}
