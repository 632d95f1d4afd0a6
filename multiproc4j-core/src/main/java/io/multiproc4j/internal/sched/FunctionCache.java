package io.multiproc4j.internal.sched;

import io.multiproc4j.SerializableFunction;
import io.multiproc4j.spi.Codec;
import java.io.IOException;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Gives the same function the same id, so workers decode it once (decoding a lambda costs tens of
 * microseconds, more than a whole small task). A function without instance state (a lambda that
 * captures nothing) is found by identity, without encoding. One with state is encoded at every call,
 * since its state may have changed, and found by its bytes. Both maps are small LRUs; a miss only
 * costs a decode in each worker.
 *
 * <p>One table per codec: bytes are only valid for the codec that made them, so two pools with
 * different codecs never share an encoding. The tables are held weakly by their codec: once no pool
 * uses a codec, its table, and the lambdas and class loaders it holds, can be collected.
 */
final class FunctionCache {
    private static final int SIZE = 256;
    private static final Map<Codec, FunctionCache> BY_CODEC = new java.util.WeakHashMap<>();

    /**
     * @param codec a codec
     * @return its function table
     */
    static FunctionCache of(Codec codec) {
        synchronized (BY_CODEC) {
            return BY_CODEC.computeIfAbsent(codec, c -> new FunctionCache());
        }
    }

    private static final ClassValue<Boolean> STATELESS = new ClassValue<>() {
        @Override
        protected Boolean computeValue(Class<?> type) {
            for (Class<?> c = type; c != null && c != Object.class; c = c.getSuperclass()) {
                for (var field : c.getDeclaredFields()) {
                    if (!java.lang.reflect.Modifier.isStatic(field.getModifiers())) {
                        return false;
                    }
                }
            }
            return true;
        }
    };

    private final Map<Identity, FunctionSpec> byIdentity = lru();
    private final Map<Bytes, FunctionSpec> byContent = lru();

    private static <K> Map<K, FunctionSpec> lru() {
        return new LinkedHashMap<>(64, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<K, FunctionSpec> eldest) {
                return size() > SIZE;
            }
        };
    }

    /**
     * @param fn    the function
     * @param codec how to encode it
     * @return its spec, with an id shared by every equal function seen recently
     * @throws IOException when it cannot be encoded
     */
    @SuppressWarnings("unchecked")
    synchronized FunctionSpec spec(SerializableFunction<?, ?> fn, Codec codec) throws IOException {
        boolean stateless = STATELESS.get(fn.getClass());
        var identity = new Identity(fn);
        FunctionSpec spec = stateless ? byIdentity.get(identity) : null;
        if (spec != null) {
            return spec;
        }
        byte[] bytes = codec.encode(fn);
        var content = new Bytes(bytes);
        spec = byContent.get(content);
        if (spec == null) {
            spec = new FunctionSpec((SerializableFunction<Object, Object>) fn, bytes,
                    ScheduledPool.FUNCTION_IDS.incrementAndGet());
            byContent.put(content, spec);
        } else if (spec.function() != fn) {
            // equal bytes, another object: run the caller's own object in in-JVM paths
            spec = new FunctionSpec((SerializableFunction<Object, Object>) fn, spec.bytes(), spec.id());
        }
        if (stateless) {
            byIdentity.put(identity, spec);
        }
        return spec;
    }

    /** An identity key. */
    private record Identity(Object object) {
        @Override
        public boolean equals(Object other) {
            return other instanceof Identity(Object o) && o == object;
        }

        @Override
        public int hashCode() {
            return System.identityHashCode(object);
        }
    }

    /** A content key. */
    private record Bytes(byte[] bytes) {
        @Override
        public boolean equals(Object other) {
            return other instanceof Bytes(byte[] b) && Arrays.equals(b, bytes);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(bytes);
        }
    }
}
