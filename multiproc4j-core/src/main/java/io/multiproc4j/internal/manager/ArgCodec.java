package io.multiproc4j.internal.manager;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.ObjectOutputStream;
import java.io.StreamCorruptedException;
import java.nio.charset.StandardCharsets;

/**
 * A call's arguments on the wire. Most calls carry only strings, boxed numbers and nulls
 * ({@code map.put("k", 1)}); those go as tagged fields, which the manager reads without any
 * deserialization at all. Anything else goes as one JDK serialization stream of the {@code Object[]},
 * which the manager reads through its allowlist.
 *
 * <pre>
 *  simple:  byte 1 │ int count │ count × (byte tag │ value)      tags: 0 null, 1 String (int n, n UTF-8 bytes),
 *                                                                     2 Integer, 3 Long, 4 Boolean, 5 Double
 *  JDK:     byte 2 │ serialization stream of Object[]
 * </pre>
 */
final class ArgCodec {
    static final byte SIMPLE = 1, JDK = 2;
    private static final byte NULL = 0, STRING = 1, INT = 2, LONG = 3, BOOLEAN = 4, DOUBLE = 5;
    private static final int MAX_SIMPLE_ARGS = 64;

    private ArgCodec() {}

    static byte[] encode(Object[] args) throws IOException {
        var bytes = new ByteArrayOutputStream(64);
        if (args == null) {
            args = new Object[0];
        }
        if (simple(args)) {
            var out = new DataOutputStream(bytes);
            out.writeByte(SIMPLE);
            out.writeInt(args.length);
            for (Object arg : args) {
                switch (arg) {
                    case null -> out.writeByte(NULL);
                    case String s -> {
                        byte[] utf8 = s.getBytes(StandardCharsets.UTF_8);
                        out.writeByte(STRING);
                        out.writeInt(utf8.length);
                        out.write(utf8);
                    }
                    case Integer i -> { out.writeByte(INT); out.writeInt(i); }
                    case Long l -> { out.writeByte(LONG); out.writeLong(l); }
                    case Boolean b -> { out.writeByte(BOOLEAN); out.writeBoolean(b); }
                    case Double d -> { out.writeByte(DOUBLE); out.writeDouble(d); }
                    default -> throw new IllegalStateException("not simple: " + arg.getClass());
                }
            }
            out.flush();
            return bytes.toByteArray();
        }
        bytes.write(JDK);
        try (var out = new ObjectOutputStream(bytes)) {
            out.writeObject(args);
        }
        return bytes.toByteArray();
    }

    private static boolean simple(Object[] args) {
        if (args.length > MAX_SIMPLE_ARGS) {
            return false;
        }
        for (Object arg : args) {
            if (arg != null && arg.getClass() != String.class && arg.getClass() != Integer.class
                    && arg.getClass() != Long.class && arg.getClass() != Boolean.class && arg.getClass() != Double.class) {
                return false;
            }
        }
        return true;
    }

    /** Reads the simple form; the caller reads the JDK form through its filter. */
    static Object[] decodeSimple(byte[] bytes) throws IOException {
        var in = new DataInputStream(new ByteArrayInputStream(bytes, 1, bytes.length - 1));
        int count = in.readInt();
        if (count < 0 || count > MAX_SIMPLE_ARGS) {
            throw new StreamCorruptedException("argument count " + count + " out of range");
        }
        Object[] args = new Object[count];
        for (int i = 0; i < count; i++) {
            byte tag = in.readByte();
            args[i] = switch (tag) {
                case NULL -> null;
                case STRING -> {
                    int n = in.readInt();
                    if (n < 0 || n > in.available()) {
                        throw new StreamCorruptedException("string length " + n + " out of range");
                    }
                    yield new String(in.readNBytes(n), StandardCharsets.UTF_8);
                }
                case INT -> in.readInt();
                case LONG -> in.readLong();
                case BOOLEAN -> in.readBoolean();
                case DOUBLE -> in.readDouble();
                default -> throw new StreamCorruptedException("unknown argument tag " + tag);
            };
        }
        return args;
    }
}
