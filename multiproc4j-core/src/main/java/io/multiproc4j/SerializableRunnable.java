package io.multiproc4j;

import java.io.Serializable;

/**
 * A {@link Runnable} that can be shipped to a worker JVM: a pool's
 * {@linkplain PoolBuilder#initializer initializer}, or a task given to
 * {@link TaskExecutor#submit(SerializableRunnable)}. A lambda written in place is serializable as is.
 */
@FunctionalInterface
public interface SerializableRunnable extends Runnable, Serializable {}
