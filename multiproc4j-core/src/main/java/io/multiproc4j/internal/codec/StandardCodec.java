package io.multiproc4j.internal.codec;

import io.multiproc4j.spi.Codec;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.ObjectInputFilter;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.io.ObjectStreamClass;
import java.io.StreamCorruptedException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.RandomAccess;

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
 *  LAMBDA     a serializable lambda or method reference: its cached shape and its captured
 *             values ({@link LambdaCodec})
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
            INT_LIST = 18, LONG_LIST = 19, DOUBLE_LIST = 20, LAMBDA = 21;

    private static final Class<?> IMMUTABLE_LIST_12 = List.of(1).getClass();
    private static final Class<?> IMMUTABLE_LIST_N = List.of(1, 2, 3).getClass();
    private static final Class<?> ARRAYS_LIST = Arrays.asList(1).getClass();

    /** Creates the codec; workers create theirs by this constructor. */
    public StandardCodec() {}

    @Override
    public byte[] encode(Object value) throws IOException {
        return encodeValue(value);
    }

    @Override
    public Object decode(byte[] bytes) throws IOException, ClassNotFoundException {
        return decodeValue(bytes);
    }

    /** {@link #encode}, for the parts of this codec that nest values. */
    static byte[] encodeValue(Object value) throws IOException {
        if (value instanceof IntResults results) {
            return results.encode(); // a worker's batch of Integer results, already unboxed
        }
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

    /** {@link #decode}, for the parts of this codec that nest values. */
    static Object decodeValue(byte[] bytes) throws IOException, ClassNotFoundException {
        if (bytes.length == 0) {
            throw new StreamCorruptedException("no bytes to decode");
        }
        if (bytes[0] == JDK) {
            try (var ois = new LoaderObjectInputStream(new ByteArrayInputStream(bytes, 1, bytes.length - 1))) {
                return ois.readObject();
            }
        }
        if (bytes[0] == INT_LIST || bytes[0] == LONG_LIST || bytes[0] == DOUBLE_LIST) {
            return readPacked(bytes, 0); // the hot path of a map's chunks and results
        }
        var in = new DataInputStream(new ByteArrayInputStream(bytes));
        return readFast(in, in.readByte());
    }

    /**
     * Decodes a list that its receiver only reads: a batch's results on their way into the call's
     * result list in the pool, a batch's inputs in a worker. A packed list comes back as a
     * {@link PackedList} view of the bytes, boxing each element only when it is read (so the box can
     * die young, or not exist at all once the JIT inlines the reader); anything else as
     * {@link Codec#decode} gives it.
     *
     * @param codec the pool's codec
     * @param bytes what a worker's codec encoded from a list
     * @return the list
     * @throws IOException            when the bytes are malformed
     * @throws ClassNotFoundException when a class in them cannot be found here
     */
    public static List<?> decodeResults(Codec codec, byte[] bytes) throws IOException, ClassNotFoundException {
        return decodeResults(codec, bytes, 0, bytes.length);
    }

    /**
     * {@link #decodeResults(Codec, byte[])} of {@code length} bytes of {@code bytes} from {@code at}:
     * a packed list is a view of them, anything else is decoded from a copy of them.
     *
     * @param codec  the pool's codec
     * @param bytes  holds what a worker's codec encoded from a list
     * @param at     where it starts
     * @param length its length
     * @return the list
     * @throws IOException            when the bytes are malformed
     * @throws ClassNotFoundException when a class in them cannot be found here
     */
    public static List<?> decodeResults(Codec codec, byte[] bytes, int at, int length)
            throws IOException, ClassNotFoundException {
        java.util.Objects.checkFromIndexSize(at, length, bytes.length);
        if (codec instanceof StandardCodec && length >= PACKED_HEADER
                && (bytes[at] == INT_LIST || bytes[at] == LONG_LIST || bytes[at] == DOUBLE_LIST)) {
            int n = (int) INT_BE.get(bytes, at + 2);
            int width = bytes[at] == INT_LIST ? 4 : 8;
            if (n < 0 || (long) n * width > length - PACKED_HEADER) {
                throw new StreamCorruptedException("a packed list of " + n + " elements does not fit in "
                        + length + " bytes");
            }
            PackedList.Kind kind = bytes[at] == INT_LIST ? PackedList.Kind.INT
                    : bytes[at] == LONG_LIST ? PackedList.Kind.LONG : PackedList.Kind.DOUBLE;
            return new PackedList(kind, bytes, at + PACKED_HEADER, n);
        }
        byte[] exact = at == 0 && length == bytes.length ? bytes : Arrays.copyOfRange(bytes, at, at + length);
        return (List<?>) codec.decode(exact);
    }

    /**
     * Encodes a chunk of a call's inputs, given as any random-access list (a view of the caller's
     * list, not a copy of it), exactly as an {@link ArrayList} of the same elements would encode.
     *
     * @param codec the pool's codec
     * @param chunk the inputs
     * @return the bytes, or {@code null} when this codec or these values need the ordinary path
     *     (encode a copy of the chunk with {@link Codec#encode})
     */
    public static byte[] encodeChunk(Codec codec, List<?> chunk) {
        if (!(codec instanceof StandardCodec) || !(chunk instanceof RandomAccess)) {
            return null;
        }
        return packed(ARRAY_LIST, chunk);
    }

    /**
     * The list a worker's batch loop should add a batch's results to: one that keeps Integers
     * unboxed and encodes in bulk ({@link IntResults}) under this codec, an {@link ArrayList}
     * under any other.
     *
     * @param codec    the worker's codec
     * @param capacity the batch's size
     * @return an empty list
     */
    public static List<Object> resultList(Codec codec, int capacity) {
        return codec instanceof StandardCodec ? new IntResults(capacity) : new ArrayList<>(capacity);
    }

    /** An array for a packed list of {@code n} ints (an ArrayList's), header written; null when so few are not packed. */
    static byte[] packedInts(int n) {
        return n < MIN_PACKED ? null : packedHeader(INT_LIST, ARRAY_LIST, n, 4);
    }

    private static int checkedPackedSize(byte[] bytes, int at) throws IOException {
        if (bytes.length - at < PACKED_HEADER) {
            throw new EOFException("a packed list's header is cut short");
        }
        int n = (int) INT_BE.get(bytes, at + 2);
        int width = bytes[at] == INT_LIST ? 4 : 8;
        if (n < 0 || (long) n * width > bytes.length - at - PACKED_HEADER) {
            throw new StreamCorruptedException("a packed list of " + n + " elements does not fit in "
                    + (bytes.length - at) + " bytes");
        }
        return n;
    }

    /** Writes a fast-path value, or returns {@code false} (having written garbage) when there is none. */
    private static boolean writeFast(DataOutputStream out, Object value) throws IOException {
        // An if chain, not a pattern switch: a type switch links through SwitchBootstraps, which
        // generates a class with the ClassFile API at run time in every JVM (a worker's AOT cache
        // keeps none), in code still cold in a new worker that is about to send its first result.
        if (value == null) {
            out.writeByte(NULL);
        } else if (value instanceof Integer i) {
            out.writeByte(INT);
            out.writeInt(i);
        } else if (value instanceof Long l) {
            out.writeByte(LONG);
            out.writeLong(l);
        } else if (value instanceof Double d) {
            out.writeByte(DOUBLE);
            out.writeDouble(d);
        } else if (value instanceof Float f) {
            out.writeByte(FLOAT);
            out.writeFloat(f);
        } else if (value instanceof Short sh) {
            out.writeByte(SHORT);
            out.writeShort(sh);
        } else if (value instanceof Byte b) {
            out.writeByte(BYTE);
            out.writeByte(b);
        } else if (value instanceof Character c) {
            out.writeByte(CHAR);
            out.writeChar(c);
        } else if (value instanceof Boolean b) {
            out.writeByte(BOOLEAN);
            out.writeBoolean(b);
        } else if (value instanceof String s) {
            byte[] utf8 = s.getBytes(StandardCharsets.UTF_8);
            out.writeByte(STRING);
            out.writeInt(utf8.length);
            out.write(utf8);
        } else if (value instanceof int[] a) {
            out.writeByte(INTS);
            out.writeInt(a.length);
            for (int x : a) out.writeInt(x);
        } else if (value instanceof long[] a) {
            out.writeByte(LONGS);
            out.writeInt(a.length);
            for (long x : a) out.writeLong(x);
        } else if (value instanceof double[] a) {
            out.writeByte(DOUBLES);
            out.writeInt(a.length);
            for (double x : a) out.writeDouble(x);
        } else if (value instanceof byte[] a) {
            out.writeByte(BYTES);
            out.writeInt(a.length);
            out.write(a);
        } else if (value instanceof List<?> list) {
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
        } else {
            if (!LambdaCodec.handles(value)) {
                return false;
            }
            out.writeByte(LAMBDA);
            LambdaCodec.write(out, value);
        }
        return true;
    }

    private static final VarHandle INT_BE = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.BIG_ENDIAN);
    private static final VarHandle LONG_BE = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.BIG_ENDIAN);
    /** Bytes before the packed elements: tag, kind, int n. */
    static final int PACKED_HEADER = 6;
    /** Lists shorter than this are written element by element. */
    private static final int MIN_PACKED = 8;

    /**
     * Encodes a list holding one box type only (no nulls) in bulk, in one pass into an array of the
     * exact size; null if it is not such a list. A million Integers take about a millisecond.
     */
    private static byte[] packed(byte kind, List<?> list) {
        int n = list.size();
        if (n < MIN_PACKED || !(list instanceof RandomAccess)) {
            return null;
        }
        Object first = list.get(0);
        if (first instanceof Integer) {
            byte[] out = packedHeader(INT_LIST, kind, n, 4);
            for (int i = 0, at = PACKED_HEADER; i < n; i++, at += 4) {
                if (!(list.get(i) instanceof Integer v)) {
                    return null;
                }
                INT_BE.set(out, at, v.intValue());
            }
            return out;
        }
        if (first instanceof Long) {
            byte[] out = packedHeader(LONG_LIST, kind, n, 8);
            for (int i = 0, at = PACKED_HEADER; i < n; i++, at += 8) {
                if (!(list.get(i) instanceof Long v)) {
                    return null;
                }
                LONG_BE.set(out, at, v.longValue());
            }
            return out;
        }
        if (first instanceof Double) {
            byte[] out = packedHeader(DOUBLE_LIST, kind, n, 8);
            for (int i = 0, at = PACKED_HEADER; i < n; i++, at += 8) {
                if (!(list.get(i) instanceof Double v)) {
                    return null;
                }
                LONG_BE.set(out, at, Double.doubleToRawLongBits(v));
            }
            return out;
        }
        return null;
    }

    private static byte[] packedHeader(byte tag, byte kind, int n, int width) {
        byte[] out = new byte[Math.addExact(PACKED_HEADER, Math.multiplyExact(n, width))];
        out[0] = tag;
        out[1] = kind;
        INT_BE.set(out, 2, n);
        return out;
    }

    /** Decodes a packed list straight from the bytes at {@code at} (its tag), with no intermediate copies. */
    private static List<Object> readPacked(byte[] bytes, int at) throws IOException {
        byte tag = bytes[at];
        int n = checkedPackedSize(bytes, at);
        byte kind = bytes[at + 1];
        int from = at + PACKED_HEADER;
        if (kind == ARRAY_LIST) {
            // Filled in place: one array, never a copy of one (ArrayList(Collection) would copy).
            var list = new ArrayList<Object>(n);
            switch (tag) {
                case INT_LIST -> { for (int i = 0; i < n; i++) list.add((int) INT_BE.get(bytes, from + 4 * i)); }
                case LONG_LIST -> { for (int i = 0; i < n; i++) list.add((long) LONG_BE.get(bytes, from + 8 * i)); }
                default -> { for (int i = 0; i < n; i++) list.add(Double.longBitsToDouble((long) LONG_BE.get(bytes, from + 8 * i))); }
            }
            return list;
        }
        Object[] elements = new Object[n];
        switch (tag) {
            case INT_LIST -> { for (int i = 0; i < n; i++) elements[i] = (int) INT_BE.get(bytes, from + 4 * i); }
            case LONG_LIST -> { for (int i = 0; i < n; i++) elements[i] = (long) LONG_BE.get(bytes, from + 8 * i); }
            default -> { for (int i = 0; i < n; i++) elements[i] = Double.longBitsToDouble((long) LONG_BE.get(bytes, from + 8 * i)); }
        }
        return asList(kind, elements);
    }

    /** A packed list inside another value: read into its own array, then decoded from there. */
    private static List<Object> readPacked(DataInputStream in, byte tag) throws IOException {
        byte kind = in.readByte();
        int width = tag == INT_LIST ? 4 : 8;
        int n = length(in, width);
        byte[] packed = new byte[Math.addExact(PACKED_HEADER, Math.multiplyExact(n, width))];
        packed[0] = tag;
        packed[1] = kind;
        INT_BE.set(packed, 2, n);
        in.readFully(packed, PACKED_HEADER, packed.length - PACKED_HEADER);
        return readPacked(packed, 0);
    }

    private static List<Object> asList(byte kind, Object[] elements) {
        return switch (kind) {
            case ARRAY_LIST -> new ArrayList<>(Arrays.asList(elements));
            // List.of refuses nulls; Stream.toList() makes the same immutable kind and keeps them
            case IMMUTABLE_LIST -> hasNull(elements) ? Arrays.stream(elements).toList() : List.of(elements);
            case ARRAYS_AS_LIST -> Arrays.asList(elements);
            default -> throw new IllegalArgumentException("unknown list kind " + kind);
        };
    }

    private static boolean hasNull(Object[] elements) {
        for (Object e : elements) {
            if (e == null) {
                return true;
            }
        }
        return false;
    }

    private static byte listTag(List<?> list) {
        Class<?> type = list.getClass();
        if (type == ArrayList.class) return ARRAY_LIST;
        if (type == IMMUTABLE_LIST_12 || type == IMMUTABLE_LIST_N || type == SegmentedList.class) return IMMUTABLE_LIST;
        if (type == ARRAYS_LIST) return ARRAYS_AS_LIST;
        return JDK;
    }

    private static Object readFast(DataInputStream in, byte tag) throws IOException, ClassNotFoundException {
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
                int[] a = new int[length(in, 4)];
                for (int i = 0; i < a.length; i++) a[i] = in.readInt();
                yield a;
            }
            case LONGS -> {
                long[] a = new long[length(in, 8)];
                for (int i = 0; i < a.length; i++) a[i] = in.readLong();
                yield a;
            }
            case DOUBLES -> {
                double[] a = new double[length(in, 8)];
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
            case LAMBDA -> LambdaCodec.read(in);
            default -> throw new StreamCorruptedException("unknown codec tag " + tag);
        };
    }

    private static int length(DataInputStream in) throws IOException {
        return length(in, 1);
    }

    /**
     * Reads a length and checks it against the bytes left (decoding always reads from an array, so
     * {@code available()} is exact): a forged length fails here instead of allocating up to 2^31
     * elements first.
     */
    private static int length(DataInputStream in, int bytesPerElement) throws IOException {
        int n = in.readInt();
        if (n < 0) {
            throw new StreamCorruptedException("negative length " + n);
        }
        if (n > in.available() / bytesPerElement) {
            throw new StreamCorruptedException("length " + n + " is more than the " + in.available() + " bytes left can hold");
        }
        return n;
    }

    /** Loads a class as decoding does: the context class loader first, then this codec's. */
    static Class<?> resolve(String name) throws ClassNotFoundException {
        ClassLoader loader = Thread.currentThread().getContextClassLoader();
        if (loader != null) {
            try {
                return Class.forName(name, false, loader);
            } catch (ClassNotFoundException e) {
                // fall through
            }
        }
        return Class.forName(name, false, StandardCodec.class.getClassLoader());
    }

    /**
     * Resolves classes through the context class loader and applies the size limits.
     *
     * <p>The limits live here, not in the codec, so that they are made only when JDK serialization
     * is used: {@code ObjectInputFilter.Config}'s initialization asks for a {@code System.Logger},
     * whose first lookup runs a {@link java.util.ServiceLoader} over the whole class path (measured:
     * 30 ms of a new worker's main thread and as much again compiling that code, for tasks and
     * results that never needed JDK serialization).
     */
    private static final class LoaderObjectInputStream extends ObjectInputStream {
        private static final ObjectInputFilter LIMITS =
                ObjectInputFilter.Config.createFilter("maxdepth=1000;maxrefs=50000000;maxarray=2147483647");

        LoaderObjectInputStream(InputStream in) throws IOException {
            super(in);
            JvmSerialFilter.userCodeMayRun(); // readObject runs user code
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
