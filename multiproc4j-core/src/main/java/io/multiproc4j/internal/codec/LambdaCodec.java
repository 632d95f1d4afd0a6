package io.multiproc4j.internal.codec;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InvalidClassException;
import java.io.ObjectInputFilter;
import java.io.StreamCorruptedException;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.SerializedLambda;
import java.lang.reflect.Method;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Serializable lambdas and method references without a JDK serialization stream: the lambda's
 * shape (what {@link SerializedLambda} holds apart from the captured values: capturing class,
 * interface, implementation method) is written once per lambda class into a header that is cached,
 * and each value adds only its captured arguments, each encoded by {@link StandardCodec}. Decoding
 * caches the shape by its header bytes (on the capturing class: no global map keeps user classes
 * and their loaders alive) and rebuilds the lambda the way JDK deserialization does,
 * through the capturing class's {@code $deserializeLambda$}. An executor's {@code submit(() -> f(i))}
 * then costs a header copy and an int instead of a serialization stream with class descriptors.
 *
 * <pre>
 *  LAMBDA tag ─ int h ─ h bytes of header ─ int n ─ n × (int length, bytes of a StandardCodec value)
 *  header: UTF capturingClass, functionalInterfaceClass, functionalInterfaceMethodName,
 *          functionalInterfaceMethodSignature, implClass, implMethodName, implMethodSignature,
 *          int implMethodKind, UTF instantiatedMethodType
 * </pre>
 *
 * Only lambdas whose package is open to this module qualify (every class on the class path; a
 * named module's only where it opens the package): {@code writeReplace} and
 * {@code $deserializeLambda$} are private, and anything else goes through JDK serialization as before.
 * A JVM-wide {@code jdk.serialFilter} is asked about {@link SerializedLambda} and the capturing class,
 * as JDK deserialization would ask it ({@link JvmSerialFilter}: without initializing
 * {@code ObjectInputFilter.Config} in a new worker's first lambda, where it can hold none).
 */
final class LambdaCodec {
    /** Shapes kept per capturing class (one per lambda in it, normally a handful). */
    private static final int MAX_SHAPES = 1024;

    /** How a lambda class encodes, or {@link #NOT_A_LAMBDA}. */
    private static final ClassValue<EncodeShape> SHAPES = new ClassValue<>() {
        @Override
        protected EncodeShape computeValue(Class<?> type) {
            if (!type.isHidden() || !type.getName().contains("$$Lambda") || !java.io.Serializable.class.isAssignableFrom(type)
                    || !type.getModule().isOpen(type.getPackageName(), LambdaCodec.class.getModule())) {
                return NOT_A_LAMBDA;
            }
            try {
                Method writeReplace = type.getDeclaredMethod("writeReplace");
                writeReplace.setAccessible(true);
                return new EncodeShape(writeReplace);
            } catch (NoSuchMethodException | RuntimeException e) {
                return NOT_A_LAMBDA;
            }
        }
    };
    private static final EncodeShape NOT_A_LAMBDA = new EncodeShape(null);

    /**
     * Decoded shapes, kept on their capturing class (not in a global map, which would keep the
     * classes and their loaders reachable for ever).
     */
    private static final ClassValue<Map<HeaderKey, DecodeShape>> DECODED = new ClassValue<>() {
        @Override
        protected Map<HeaderKey, DecodeShape> computeValue(Class<?> capturingClass) {
            return new ConcurrentHashMap<>();
        }
    };

    private LambdaCodec() {}

    /** The encoding side of one lambda class: its {@code writeReplace}, and its header once known. */
    private static final class EncodeShape {
        final Method writeReplace;
        volatile byte[] header;

        EncodeShape(Method writeReplace) {
            this.writeReplace = writeReplace;
        }
    }

    /** @return whether the value is a serializable lambda this codec can write */
    static boolean handles(Object value) {
        return SHAPES.get(value.getClass()) != NOT_A_LAMBDA;
    }

    /**
     * Writes the lambda (after the tag).
     *
     * @throws IOException when a captured value cannot be encoded (NotSerializableException names it)
     */
    static void write(DataOutputStream out, Object lambda) throws IOException {
        EncodeShape shape = SHAPES.get(lambda.getClass());
        SerializedLambda serialized;
        try {
            serialized = (SerializedLambda) shape.writeReplace.invoke(lambda);
        } catch (ReflectiveOperationException | ClassCastException e) {
            throw new IOException("cannot take the serialized form of " + lambda.getClass().getName() + ": " + e, e);
        }
        byte[] header = shape.header;
        if (header == null) {
            shape.header = header = header(serialized);
        }
        out.writeInt(header.length);
        out.write(header);
        out.writeInt(serialized.getCapturedArgCount());
        for (int i = 0; i < serialized.getCapturedArgCount(); i++) {
            byte[] arg = StandardCodec.encodeValue(serialized.getCapturedArg(i));
            out.writeInt(arg.length);
            out.write(arg);
        }
    }

    private static byte[] header(SerializedLambda s) throws IOException {
        var bytes = new ByteArrayOutputStream(256);
        var out = new DataOutputStream(bytes);
        out.writeUTF(s.getCapturingClass());
        out.writeUTF(s.getFunctionalInterfaceClass());
        out.writeUTF(s.getFunctionalInterfaceMethodName());
        out.writeUTF(s.getFunctionalInterfaceMethodSignature());
        out.writeUTF(s.getImplClass());
        out.writeUTF(s.getImplMethodName());
        out.writeUTF(s.getImplMethodSignature());
        out.writeInt(s.getImplMethodKind());
        out.writeUTF(s.getInstantiatedMethodType());
        out.flush();
        return bytes.toByteArray();
    }

    /** Reads a lambda (after the tag). */
    static Object read(DataInputStream in) throws IOException, ClassNotFoundException {
        int h = in.readInt();
        if (h < 0 || h > 1 << 20) {
            throw new StreamCorruptedException("a lambda header of " + h + " bytes");
        }
        byte[] header = in.readNBytes(h);
        Class<?> capturingClass = StandardCodec.resolve(
                new DataInputStream(new java.io.ByteArrayInputStream(header)).readUTF().replace('/', '.'));
        Map<HeaderKey, DecodeShape> shapes = DECODED.get(capturingClass);
        var key = new HeaderKey(header);
        DecodeShape shape = shapes.get(key);
        if (shape == null) {
            shape = DecodeShape.of(capturingClass, header);
            if (shapes.size() >= MAX_SHAPES) {
                shapes.clear(); // a miss only costs resolving the shape again
            }
            shapes.put(key, shape);
        }
        shape.checkFilter();
        int n = in.readInt();
        if (n < 0 || n > 255) {
            throw new StreamCorruptedException("a lambda with " + n + " captured values");
        }
        Object[] captured = new Object[n];
        for (int i = 0; i < n; i++) {
            int length = in.readInt();
            if (length < 1) {
                throw new StreamCorruptedException("a captured value of " + length + " bytes");
            }
            captured[i] = StandardCodec.decodeValue(in.readNBytes(length));
        }
        var serialized = new SerializedLambda(shape.capturingClass, shape.interfaceClass, shape.interfaceMethod,
                shape.interfaceSignature, shape.implKind, shape.implClass, shape.implMethod, shape.implSignature,
                shape.instantiatedType, captured);
        try {
            return shape.deserialize.invoke(serialized);
        } catch (Error | RuntimeException e) {
            throw e;
        } catch (Throwable t) {
            throw new InvalidClassException(shape.capturingClass.getName(), "cannot rebuild a lambda: " + t);
        }
    }

    /** A decoded header: the classes resolved and {@code $deserializeLambda$} looked up once. */
    private record DecodeShape(Class<?> capturingClass, String interfaceClass, String interfaceMethod,
                               String interfaceSignature, String implClass, String implMethod, String implSignature,
                               int implKind, String instantiatedType, MethodHandle deserialize) {
        static DecodeShape of(Class<?> capturingClass, byte[] header) throws IOException {
            var in = new DataInputStream(new java.io.ByteArrayInputStream(header));
            in.readUTF(); // the capturing class, resolved by the caller
            String fi = in.readUTF();
            String fiMethod = in.readUTF();
            String fiSignature = in.readUTF();
            String impl = in.readUTF();
            String implMethod = in.readUTF();
            String implSignature = in.readUTF();
            int kind = in.readInt();
            String instantiated = in.readUTF();
            if (!capturingClass.getModule().isOpen(capturingClass.getPackageName(), LambdaCodec.class.getModule())) {
                throw new InvalidClassException(capturingClass.getName(), "its package is not open to multiproc4j");
            }
            MethodHandle deserialize;
            try {
                Method m = capturingClass.getDeclaredMethod("$deserializeLambda$", SerializedLambda.class);
                m.setAccessible(true);
                deserialize = MethodHandles.lookup().unreflect(m);
            } catch (NoSuchMethodException | IllegalAccessException | RuntimeException e) {
                throw new InvalidClassException(capturingClass.getName(), "has no serializable lambdas: " + e);
            }
            return new DecodeShape(capturingClass, fi, fiMethod, fiSignature, impl, implMethod, implSignature, kind,
                    instantiated, deserialize);
        }

        /**
         * Asks the JVM-wide filter, when there is one, what JDK deserialization would ask it. In a
         * new worker's first lambda, {@link JvmSerialFilter} knows there is none without
         * initializing {@code ObjectInputFilter.Config} (60 ms of a worker's start).
         */
        void checkFilter() throws InvalidClassException {
            ObjectInputFilter filter = JvmSerialFilter.takeForLambda();
            if (filter == null) {
                return;
            }
            for (Class<?> type : new Class<?>[] {SerializedLambda.class, capturingClass}) {
                if (filter.checkInput(new Info(type)) == ObjectInputFilter.Status.REJECTED) {
                    throw new InvalidClassException(type.getName(), "rejected by jdk.serialFilter");
                }
            }
        }
    }

    private record Info(Class<?> serialClass) implements ObjectInputFilter.FilterInfo {
        @Override
        public long arrayLength() {
            return -1;
        }

        @Override
        public long depth() {
            return 1;
        }

        @Override
        public long references() {
            return 1;
        }

        @Override
        public long streamBytes() {
            return 0;
        }
    }

    private record HeaderKey(byte[] bytes) {
        @Override
        public boolean equals(Object other) {
            return other instanceof HeaderKey(byte[] b) && Arrays.equals(b, bytes);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(bytes);
        }
    }
}
