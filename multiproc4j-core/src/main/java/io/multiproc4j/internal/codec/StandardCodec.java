package io.multiproc4j.internal.codec;

import io.multiproc4j.spi.Codec;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.ObjectInputFilter;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.io.ObjectStreamClass;
import java.io.StreamCorruptedException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * JDK serialization with fast paths for the values that tasks pass most: boxed primitives,
 * strings, primitive arrays and plain lists of those. A fast-path value costs a tag byte and its
 * payload instead of a serialization stream header and class descriptors.
 *
 * <pre>
 *  byte 0     tag
 *  ───────    ─────────────────────────────────────────────────────────────
 *  NULL       (nothing)
 *  INT        int                 LONG     long        DOUBLE  double
 *  FLOAT      float               SHORT    short       BYTE    byte
 *  CHAR       char                BOOLEAN  byte 0/1
 *  STRING     int n, n bytes UTF-8
 *  INTS, LONGS, DOUBLES, BYTES    int n, n elements
 *  LIST_*     int n, n fast values (ARRAY_LIST, IMMUTABLE, ARRAYS_AS_LIST keep the list's kind)
 *  INT_LIST, LONG_LIST, DOUBLE_LIST
 *             byte kind (a LIST_* tag), int n, n packed elements: a list of only that box type,
 *             written and read in bulk (a million Integers in a few milliseconds)
 *  JDK        a java.io serialization stream (anything else)
 * </pre>
 *
 * Decoding a JDK stream goes through an {@link ObjectInputFilter} that bounds depth, references and
 * array sizes, and honours {@code jdk.serialFilter} when the JVM has one. Classes resolve through
 * the thread's context class loader first, so workers see the parent's class path.
 */
public final class StandardCodec implements Codec {
    private static final byte NULL = 0, INT = 1, LONG = 2, DOUBLE = 3, FLOAT = 4, SHORT = 5, BYTE = 6,
            CHAR = 7, BOOLEAN = 8, STRING = 9, INTS = 10, LONGS = 11, DOUBLES = 12, BYTES = 13,
            ARRAY_LIST = 14, IMMUTABLE_LIST = 15, ARRAYS_AS_LIST = 16, JDK = 17,
            INT_LIST = 18, LONG_LIST = 19, DOUBLE_LIST = 20;

    private static final Class<?> IMMUTABLE_LIST_12 = List.of(1).getClass();
    private static final Class<?> IMMUTABLE_LIST_N = List.of(1, 2, 3).getClass();
    private static final Class<?> ARRAYS_LIST = Arrays.asList(1).getClass();

    private static final ObjectInputFilter LIMITS =
            ObjectInputFilter.Config.createFilter("maxdepth=1000;maxrefs=50000000;maxarray=2147483647");

    /** Creates the codec; workers create theirs by this constructor. */
    public StandardCodec() {}

    @Override
    public byte[] encode(Object value) throws IOException {
        if (value instanceof List<?> list && listTag(list) != JDK) {
            byte[] packed = packed(listTag(list), list);
            if (packed != null) {
                return packed; // exact size, one pass: the hot path of a map's chunks and results
            }
        }
        var bytes = new ByteArrayOutputStream(64);
        var out = new DataOutputStream(bytes);
        if (!writeFast(out, value)) {
            bytes.reset();
            out.writeByte(JDK);
            try (var oos = new ObjectOutputStream(bytes)) {
                oos.writeObject(value);
            }
        }
        out.flush();
        return bytes.toByteArray();
    }

    @Override
    public Object decode(byte[] bytes) throws IOException, ClassNotFoundException {
        if (bytes.length == 0) {
            throw new StreamCorruptedException("no bytes to decode");
        }
        if (bytes[0] == JDK) {
            try (var ois = new LoaderObjectInputStream(new ByteArrayInputStream(bytes, 1, bytes.length - 1))) {
                return ois.readObject();
            }
        }
        var in = new DataInputStream(new ByteArrayInputStream(bytes));
        return readFast(in, in.readByte());
    }

    /** Writes a fast-path value, or returns {@code false} (having written garbage) when there is none. */
    private static boolean writeFast(DataOutputStream out, Object value) throws IOException {
        switch (value) {
            case null -> out.writeByte(NULL);
            case Integer i -> { out.writeByte(INT); out.writeInt(i); }
            case Long l -> { out.writeByte(LONG); out.writeLong(l); }
            case Double d -> { out.writeByte(DOUBLE); out.writeDouble(d); }
            case Float f -> { out.writeByte(FLOAT); out.writeFloat(f); }
            case Short s -> { out.writeByte(SHORT); out.writeShort(s); }
            case Byte b -> { out.writeByte(BYTE); out.writeByte(b); }
            case Character c -> { out.writeByte(CHAR); out.writeChar(c); }
            case Boolean b -> { out.writeByte(BOOLEAN); out.writeBoolean(b); }
            case String s -> {
                byte[] utf8 = s.getBytes(StandardCharsets.UTF_8);
                out.writeByte(STRING);
                out.writeInt(utf8.length);
                out.write(utf8);
            }
            case int[] a -> {
                out.writeByte(INTS);
                out.writeInt(a.length);
                for (int x : a) out.writeInt(x);
            }
            case long[] a -> {
                out.writeByte(LONGS);
                out.writeInt(a.length);
                for (long x : a) out.writeLong(x);
            }
            case double[] a -> {
                out.writeByte(DOUBLES);
                out.writeInt(a.length);
                for (double x : a) out.writeDouble(x);
            }
            case byte[] a -> {
                out.writeByte(BYTES);
                out.writeInt(a.length);
                out.write(a);
            }
            case List<?> list -> {
                byte tag = listTag(list);
                if (tag == JDK) {
                    return false;
                }
                byte[] packed = packed(tag, list);
                if (packed != null) {
                    out.write(packed);
                    return true;
                }
                out.writeByte(tag);
                out.writeInt(list.size());
                for (Object element : list) {
                    if (!writeFast(out, element)) {
                        return false;
                    }
                }
            }
            default -> {
                return false;
            }
        }
        return true;
    }

    /** Encodes a list holding one box type only (no nulls) in bulk; null if it is not such a list. */
    private static byte[] packed(byte kind, List<?> list) {
        int n = list.size();
        if (n < 8) {
            return null;
        }
        Class<?> type = list.getFirst() == null ? null : list.getFirst().getClass();
        if (type != Integer.class && type != Long.class && type != Double.class) {
            return null;
        }
        for (Object element : list) {
            if (element == null || element.getClass() != type) {
                return null;
            }
        }
        int width = type == Integer.class ? 4 : 8;
        var buffer = ByteBuffer.allocate(1 + 1 + 4 + n * width);
        buffer.put(type == Integer.class ? INT_LIST : type == Long.class ? LONG_LIST : DOUBLE_LIST);
        buffer.put(kind);
        buffer.putInt(n);
        if (type == Integer.class) {
            for (Object element : list) buffer.putInt((Integer) element);
        } else if (type == Long.class) {
            for (Object element : list) buffer.putLong((Long) element);
        } else {
            for (Object element : list) buffer.putDouble((Double) element);
        }
        return buffer.array();
    }

    private static List<Object> readPacked(DataInputStream in, byte tag) throws IOException {
        byte kind = in.readByte();
        int n = length(in);
        int width = tag == INT_LIST ? 4 : 8;
        var buffer = ByteBuffer.wrap(in.readNBytes(Math.multiplyExact(n, width)));
        Object[] elements = new Object[n];
        for (int i = 0; i < n; i++) {
            elements[i] = switch (tag) {
                case INT_LIST -> buffer.getInt();
                case LONG_LIST -> buffer.getLong();
                default -> buffer.getDouble();
            };
        }
        return asList(kind, elements);
    }

    private static List<Object> asList(byte kind, Object[] elements) {
        return switch (kind) {
            case ARRAY_LIST -> new ArrayList<>(Arrays.asList(elements));
            case IMMUTABLE_LIST -> List.of(elements);
            case ARRAYS_AS_LIST -> Arrays.asList(elements);
            default -> throw new IllegalArgumentException("unknown list kind " + kind);
        };
    }

    private static byte listTag(List<?> list) {
        Class<?> type = list.getClass();
        if (type == ArrayList.class) return ARRAY_LIST;
        if (type == IMMUTABLE_LIST_12 || type == IMMUTABLE_LIST_N) return IMMUTABLE_LIST;
        if (type == ARRAYS_LIST) return ARRAYS_AS_LIST;
        return JDK;
    }

    private static Object readFast(DataInputStream in, byte tag) throws IOException {
        return switch (tag) {
            case NULL -> null;
            case INT -> in.readInt();
            case LONG -> in.readLong();
            case DOUBLE -> in.readDouble();
            case FLOAT -> in.readFloat();
            case SHORT -> in.readShort();
            case BYTE -> in.readByte();
            case CHAR -> in.readChar();
            case BOOLEAN -> in.readBoolean();
            case STRING -> new String(in.readNBytes(length(in)), StandardCharsets.UTF_8);
            case INTS -> {
                int[] a = new int[length(in)];
                for (int i = 0; i < a.length; i++) a[i] = in.readInt();
                yield a;
            }
            case LONGS -> {
                long[] a = new long[length(in)];
                for (int i = 0; i < a.length; i++) a[i] = in.readLong();
                yield a;
            }
            case DOUBLES -> {
                double[] a = new double[length(in)];
                for (int i = 0; i < a.length; i++) a[i] = in.readDouble();
                yield a;
            }
            case BYTES -> in.readNBytes(length(in));
            case ARRAY_LIST, IMMUTABLE_LIST, ARRAYS_AS_LIST -> {
                Object[] elements = new Object[length(in)];
                for (int i = 0; i < elements.length; i++) elements[i] = readFast(in, in.readByte());
                yield asList(tag, elements);
            }
            case INT_LIST, LONG_LIST, DOUBLE_LIST -> readPacked(in, tag);
            default -> throw new StreamCorruptedException("unknown codec tag " + tag);
        };
    }

    private static int length(DataInputStream in) throws IOException {
        int n = in.readInt();
        if (n < 0) {
            throw new StreamCorruptedException("negative length " + n);
        }
        return n;
    }

    /** Resolves classes through the context class loader and applies the size limits. */
    private static final class LoaderObjectInputStream extends ObjectInputStream {
        LoaderObjectInputStream(InputStream in) throws IOException {
            super(in);
            ObjectInputFilter jvmWide = ObjectInputFilter.Config.getSerialFilter();
            setObjectInputFilter(jvmWide == null ? LIMITS : ObjectInputFilter.merge(jvmWide, LIMITS));
        }

        @Override
        protected Class<?> resolveClass(ObjectStreamClass desc) throws IOException, ClassNotFoundException {
            ClassLoader loader = Thread.currentThread().getContextClassLoader();
            if (loader != null) {
                try {
                    return Class.forName(desc.getName(), false, loader);
                } catch (ClassNotFoundException e) {
                    // fall through to the default lookup (primitive types, the caller's loader)
                }
            }
            return super.resolveClass(desc);
        }
    }
}
