package io.multiproc4j.internal.worker;

import io.multiproc4j.SerializableFunction;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.lang.invoke.MethodHandles;
import java.util.List;

/**
 * The loop that applies a batch's function to its inputs, specialized per function class: each
 * function class gets its own copy of {@link BatchLoopTemplate} (a hidden class defined from its bytes), so
 * the JIT's profile of {@code fn.apply} in each copy sees one receiver class only.
 *
 * <p>Why: with one shared loop, the compiled loop inlines the first function it saw behind a class
 * check; the first batch of another function fails the check, the loop is deoptimized and runs
 * interpreted until it is compiled again (for a heavy map on a pool that ran a light one: the first
 * map ran measurably slower). Per class, each loop's inlining stays right, and a function that comes
 * back finds its loop still compiled.
 */
final class BatchLoop {
    private static final byte[] TEMPLATE = template();

    /**
     * A loop copy, called through this interface rather than a method handle (perf: the first
     * batch): invoking a handle to a new hidden class's static method links a lambda form that the
     * JDK spins at run time with its class-file API, in every new worker's first batch.
     */
    interface Loop {
        /** See {@link BatchLoop#apply}. */
        @SuppressWarnings("rawtypes")
        int run(SerializableFunction fn, List inputs, List results, Throwable[] failure);
    }

    /** The copy just defined, set by its class initializer; guarded by {@code BatchLoop.class}. */
    private static Loop defined;

    private static final ClassValue<Loop> LOOPS = new ClassValue<>() {
        @Override
        protected Loop computeValue(Class<?> functionClass) {
            synchronized (BatchLoop.class) { // one copy defined at a time: defined is its answer
                try {
                    defined = null;
                    MethodHandles.lookup().defineHiddenClass(TEMPLATE, true); // its initializer calls defined()
                    Loop copy = defined;
                    defined = null;
                    return copy != null ? copy : SHARED;
                } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
                    return SHARED; // one shared loop: correct, only less well compiled
                }
            }
        }
    };
    private static final Loop SHARED = new BatchLoopTemplate();

    private BatchLoop() {}

    /** @return the class of the loop that runs batches of this function class (tests) */
    static Class<?> loopClassFor(Class<?> functionClass) {
        return LOOPS.get(functionClass).getClass();
    }

    /** Called by a loop copy's class initializer with its instance. */
    static void defined(Loop copy) {
        defined = copy;
    }

    /**
     * Applies {@code fn} to every input in order, adding each result to {@code results}.
     *
     * @param fn      the function
     * @param inputs  the inputs
     * @param results where results go
     * @param failure where the throwable of an input that threw goes (index 0)
     * @return {@code inputs.size()}, or the index of the input that threw
     */
    static int apply(SerializableFunction<Object, Object> fn, List<Object> inputs, List<Object> results,
                     Throwable[] failure) {
        return LOOPS.get(fn.getClass()).run(fn, inputs, results, failure);
    }

    /**
     * The template's bytes, read from where its class came from (perf: start-up). Not through the
     * class loader: a resource lookup on the class path tries every jar before this library's in
     * order, opening and indexing each (measured in a new worker of the bench's class path, with
     * the AOT cache: the jars before multiproc4j-core, hazelcast's among them, ~90 ms of wall time
     * on its first batch, as no class had needed them yet).
     */
    private static byte[] template() {
        String entry = BatchLoopTemplate.class.getName().replace('.', '/') + ".class";
        try {
            var source = BatchLoopTemplate.class.getProtectionDomain().getCodeSource();
            java.nio.file.Path location = source == null || BatchLoopTemplate.class.getModule().isNamed() ? null
                    : java.nio.file.Path.of(source.getLocation().toURI());
            if (location != null && java.nio.file.Files.isDirectory(location)) {
                return java.nio.file.Files.readAllBytes(location.resolve(entry));
            }
            if (location != null && java.nio.file.Files.isRegularFile(location)) {
                try (var jar = new java.util.zip.ZipFile(location.toFile())) {
                    var zipEntry = jar.getEntry(entry);
                    if (zipEntry != null) {
                        try (InputStream in = jar.getInputStream(zipEntry)) {
                            return in.readAllBytes();
                        }
                    }
                }
            }
        } catch (IOException | java.net.URISyntaxException | RuntimeException e) {
            // not a plain file or directory: the class loader finds it
        }
        try (InputStream in = BatchLoopTemplate.class.getResourceAsStream("BatchLoopTemplate.class")) {
            return in == null ? new byte[0] : in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
