package io.multiproc4j.internal.manager;

import java.io.ObjectInputFilter;
import java.lang.reflect.Proxy;
import java.util.Set;

/**
 * What the manager agrees to deserialize from its clients. The JDK calls this filter for every
 * class descriptor in a stream after the class is resolved (loaded, not initialized) and before any
 * instance is created or any {@code readObject}/{@code readResolve} runs, so a refused class never
 * executes code: its static initializer has not run either.
 *
 * <h2>Allowed</h2>
 * <ul>
 *   <li>primitives and arrays of allowed types;</li>
 *   <li>JDK value types and collections: the packages {@code java.lang} (not its sub-packages),
 *       {@code java.math}, {@code java.time}, {@code java.util}, {@code java.util.concurrent},
 *       {@code java.util.concurrent.atomic}, and {@code java.lang.invoke.SerializedLambda} (a lambda's
 *       capturing class is checked like any other class before its {@code $deserializeLambda$} runs);</li>
 *   <li>our proxies (their serialized handler {@link ProxyHandler.Serialized} with its
 *       {@link ProxyCapability}, and proxy classes whose interfaces are all allowed), so a proxy can
 *       be stored inside another shared object;</li>
 *   <li>classes and packages the server was configured with (exact package, not sub-packages),
 *       and the interfaces of registered types.</li>
 * </ul>
 * Everything else is rejected, with graph limits (depth, references, array length) on top.
 */
final class AllowlistFilter implements ObjectInputFilter {
    private static final Set<String> JDK_PACKAGES = Set.of("java.lang", "java.math", "java.time", "java.util",
            "java.util.concurrent", "java.util.concurrent.atomic", "java.util.concurrent.locks");
    private static final long MAX_DEPTH = 200, MAX_REFS = 10_000_000, MAX_ARRAY = 100_000_000;

    private final Set<String> packages;
    private final Set<String> classes;

    /**
     * @param packages extra packages allowed, exact
     * @param classes  extra classes allowed (binary names); grows as types are registered
     */
    AllowlistFilter(Set<String> packages, Set<String> classes) {
        this.packages = packages;
        this.classes = classes;
    }

    @Override
    public Status checkInput(FilterInfo info) {
        if (info.depth() > MAX_DEPTH || info.references() > MAX_REFS
                || (info.arrayLength() >= 0 && info.arrayLength() > MAX_ARRAY)) {
            return Status.REJECTED;
        }
        Class<?> type = info.serialClass();
        if (type == null) {
            return Status.UNDECIDED;
        }
        return allowed(type) ? Status.ALLOWED : Status.REJECTED;
    }

    boolean allowed(Class<?> type) {
        while (type.isArray()) {
            type = type.getComponentType();
        }
        if (type.isPrimitive()) {
            return true;
        }
        if (Proxy.isProxyClass(type)) {
            for (Class<?> face : type.getInterfaces()) {
                if (!allowed(face)) {
                    return false;
                }
            }
            return true;
        }
        String name = type.getName();
        if (type == ProxyHandler.Serialized.class || type == ProxyCapability.class
                // what Serialized.readResolve returns is filtered too; ProxyHandler's own form is refused
                || type == ProxyHandler.class || classes.contains(name)
                || name.equals("java.lang.invoke.SerializedLambda")
                // the superclass of proxy classes; their interfaces and handler are checked apart
                || name.equals("java.lang.reflect.Proxy")) {
            return true;
        }
        String pkg = type.getPackageName();
        return JDK_PACKAGES.contains(pkg) || packages.contains(pkg)
                || pkg.equals("io.multiproc4j.manager") && type.isInterface()
                || name.equals("io.multiproc4j.SerializableFunction") || name.equals("io.multiproc4j.SerializableBiFunction");
    }
}
