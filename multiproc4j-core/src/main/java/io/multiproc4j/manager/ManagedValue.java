package io.multiproc4j.manager;

import io.multiproc4j.SerializableFunction;

/**
 * One value held by a manager, like Python's {@code Manager().Value()}: every operation is atomic
 * on the manager's side.
 *
 * @param <T> the type of the value
 */
public interface ManagedValue<T> {
    /** @return the value now, or {@code null} */
    T get();

    /** @param value the new value */
    void set(T value);

    /**
     * @param value the new value
     * @return the old one
     */
    T getAndSet(T value);

    /**
     * @param expected the value it must have now ({@code equals})
     * @param value    the new value
     * @return whether it was replaced
     */
    boolean compareAndSet(T expected, T value);

    /**
     * Applies a function to the value on the manager's side, atomically.
     *
     * @param update a serializable function; its class must be allowed by the manager
     * @return the new value
     */
    T updateAndGet(SerializableFunction<T, T> update);
}
