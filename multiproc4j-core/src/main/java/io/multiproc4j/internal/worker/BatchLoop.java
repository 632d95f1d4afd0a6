package io.multiproc4j.internal.worker;

import io.multiproc4j.SerializableFunction;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
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
    private static final MethodType RUN = MethodType.methodType(int.class, SerializableFunction.class, List.class,
            List.class, Throwable[].class);
    private static final byte[] TEMPLATE = template();

    private static final ClassValue<MethodHandle> LOOPS = new ClassValue<>() {
        @Override
        protected MethodHandle computeValue(Class<?> functionClass) {
            try {
                MethodHandles.Lookup copy = MethodHandles.lookup().defineHiddenClass(TEMPLATE, false);
                return copy.findStatic(copy.lookupClass(), "run", RUN);
            } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
                return SHARED; // one shared loop: correct, only less well compiled
            }
        }
    };
    private static final MethodHandle SHARED = shared();

    private BatchLoop() {}

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
        try {
            return (int) LOOPS.get(fn.getClass()).invokeExact(fn, inputs, results, failure);
        } catch (Error | RuntimeException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t); // run catches everything; nothing else is thrown
        }
    }

    private static MethodHandle shared() {
        try {
            return MethodHandles.lookup().findStatic(BatchLoopTemplate.class, "run", RUN);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private static byte[] template() {
        try (InputStream in = BatchLoopTemplate.class.getResourceAsStream("BatchLoopTemplate.class")) {
            return in == null ? new byte[0] : in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
