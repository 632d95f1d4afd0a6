package io.multiproc4j.internal.sched;

import io.multiproc4j.SerializableFunction;
import java.io.Serial;
import java.util.concurrent.Callable;

/**
 * The one function of an executor: its input is the task. Shipped once per worker; each task then
 * travels as the input. A checked exception thrown by a {@link Callable} leaves as itself, so it
 * arrives as the cause of the future's failure, not wrapped. The result object of a
 * {@code submit(Runnable, result)} never travels: the parent's future completes with it.
 */
final class CallTask implements SerializableFunction<Object, Object> {
    @Serial
    private static final long serialVersionUID = 1L;

    @Override
    public Object apply(Object task) {
        try {
            return switch (task) {
                case Callable<?> callable -> callable.call();
                case Runnable runnable -> {
                    runnable.run();
                    yield null;
                }
                default -> throw new IllegalArgumentException("not a task: " + task);
            };
        } catch (Exception e) {
            throw CallTask.<RuntimeException>sneaky(e);
        }
    }

    @SuppressWarnings("unchecked")
    private static <E extends Throwable> E sneaky(Throwable t) throws E {
        throw (E) t;
    }
}
