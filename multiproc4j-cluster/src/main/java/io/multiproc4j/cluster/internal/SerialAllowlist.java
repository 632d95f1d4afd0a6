package io.multiproc4j.cluster.internal;

import java.io.ObjectInputFilter;
import java.lang.reflect.Proxy;
import java.util.Set;

/**
 * What a member agrees to deserialize from a task, checked by the JDK for every class descriptor
 * after the class is resolved and before any instance is created or any {@code readObject} runs, so
 * a refused class runs no code of its own.
 *
 * <p>Allowed: primitives and arrays of allowed types; the JDK's value and collection packages
 * ({@code java.lang}, {@code java.math}, {@code java.time}, {@code java.util},
 * {@code java.util.concurrent} and its {@code atomic}, {@code locks}); {@code SerializedLambda};
 * {@code io.multiproc4j} and its sub-packages; and the packages the task names (the client adds its
 * function's package and {@link io.multiproc4j.cluster.ClusterConfig#allowPackages}), exact or with
 * {@code .**} for sub-packages. Everything else is rejected, with graph limits on top.
 *
 * <h2>Concurrency</h2>
 * Installed once as the JVM-wide filter of a member JVM; the packages of the task being decoded
 * are in a thread-local, set only around our own decoding. Streams Hazelcast decodes on its own
 * threads see no thread-local and are left to Hazelcast's defaults.
 */
final class SerialAllowlist implements ObjectInputFilter {
    private static final Set<String> JDK_PACKAGES = Set.of("java.lang", "java.math", "java.time", "java.util",
            "java.util.concurrent", "java.util.concurrent.atomic", "java.util.concurrent.locks");
    private static final long MAX_DEPTH = 1_000, MAX_REFS = 50_000_000, MAX_ARRAY = 500_000_000;
    private static final ThreadLocal<String[]> CURRENT = new ThreadLocal<>();
    private static volatile boolean installed;

    /** Makes this the JVM-wide filter (once per JVM). */
    static synchronized void install() {
        if (!installed) {
            ObjectInputFilter.Config.setSerialFilter(new SerialAllowlist());
            installed = true;
        }
    }

    /** Allows {@code packages} for what this thread decodes until {@link #clear()}. */
    static void allow(String[] packages) {
        CURRENT.set(packages);
    }

    static void clear() {
        CURRENT.remove();
    }

    @Override
    public Status checkInput(FilterInfo info) {
        String[] packages = CURRENT.get();
        if (packages == null) {
            return Status.UNDECIDED;
        }
        if (info.depth() > MAX_DEPTH || info.references() > MAX_REFS
                || (info.arrayLength() >= 0 && info.arrayLength() > MAX_ARRAY)) {
            return Status.REJECTED;
        }
        Class<?> type = info.serialClass();
        if (type == null) {
            return Status.UNDECIDED;
        }
        return allowed(type, packages) ? Status.ALLOWED : Status.REJECTED;
    }

    static boolean allowed(Class<?> type, String[] packages) {
        while (type.isArray()) {
            type = type.getComponentType();
        }
        if (type.isPrimitive()) {
            return true;
        }
        if (Proxy.isProxyClass(type)) {
            return false;
        }
        String name = type.getName();
        if (name.equals("java.lang.invoke.SerializedLambda")) {
            return true;
        }
        String pkg = type.getPackageName();
        if (JDK_PACKAGES.contains(pkg) || pkg.equals("io.multiproc4j") || pkg.startsWith("io.multiproc4j.")) {
            return true;
        }
        for (String allowed : packages) {
            if (allowed.endsWith(".**")) {
                String base = allowed.substring(0, allowed.length() - 3);
                if (pkg.equals(base) || pkg.startsWith(base + ".")) {
                    return true;
                }
            } else if (allowed.endsWith(".*") ? pkg.equals(allowed.substring(0, allowed.length() - 2)) : pkg.equals(allowed)) {
                return true;
            }
        }
        return false;
    }
}
