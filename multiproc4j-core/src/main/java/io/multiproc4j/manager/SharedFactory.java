package io.multiproc4j.manager;

import java.io.Serializable;
import java.util.function.Supplier;

/**
 * Creates the real object behind a custom shared type, in the manager's process. It is
 * serializable because {@link Manager#start()} runs the manager in another JVM: a constructor
 * reference such as {@code Counter::new} is shipped there, so the class that wrote it must be on the
 * manager's class path and allowed by {@link ManagerBuilder#allowClasses}/{@link ManagerBuilder#allowPackages}.
 *
 * @param <T> the type of the object
 */
@FunctionalInterface
public interface SharedFactory<T> extends Supplier<T>, Serializable {}
