package io.multiproc4j;

import java.io.Serializable;
import java.util.function.Function;

/**
 * A {@link Function} that can be shipped to a worker JVM. A lambda written in place where one is
 * expected is serializable as is; whatever it captures must be serializable too.
 *
 * @param <T> the input type
 * @param <R> the result type
 */
@FunctionalInterface
public interface SerializableFunction<T, R> extends Function<T, R>, Serializable {}
