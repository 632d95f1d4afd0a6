package io.multiproc4j;

import java.io.Serializable;
import java.util.concurrent.Callable;

/**
 * A {@link Callable} that can be shipped to a worker JVM. {@code executor.submit(() -> fib(40))}
 * makes one: the lambda written in place is serializable as is.
 *
 * @param <T> the result type
 */
@FunctionalInterface
public interface SerializableCallable<T> extends Callable<T>, Serializable {}
