package io.multiproc4j.spi;

import io.multiproc4j.internal.codec.StandardCodec;
import java.io.IOException;

/**
 * Turns tasks, arguments, results and exceptions into bytes and back, for the trip between JVMs.
 * An implementation must have a public no-argument constructor: each worker JVM creates its own
 * from the class name. {@link #standard()} is JDK serialization with fast paths for common values.
 */
public interface Codec {

    /**
     * @param value any value, {@code null} included
     * @return its bytes
     * @throws IOException when it cannot be encoded (for JDK serialization,
     *     {@link java.io.NotSerializableException} names the offending class)
     */
    byte[] encode(Object value) throws IOException;

    /**
     * @param bytes what {@link #encode} returned, possibly in another JVM
     * @return the value
     * @throws IOException            when the bytes are malformed or refused by a filter
     * @throws ClassNotFoundException when a class in them cannot be found here
     */
    Object decode(byte[] bytes) throws IOException, ClassNotFoundException;

    /** @return the default codec: JDK serialization, fast paths, and a deserialization filter */
    static Codec standard() {
        return new StandardCodec();
    }
}
