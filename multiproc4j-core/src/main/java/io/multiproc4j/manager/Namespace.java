package io.multiproc4j.manager;

import java.util.Map;
import java.util.Set;

/**
 * Named attributes held by a manager, like Python's {@code Manager().Namespace()}: every process
 * that holds this proxy sees the same attributes. Values must be serializable.
 */
public interface Namespace {
    /**
     * @param attribute the attribute's name
     * @param <T>       the type the caller expects
     * @return its value, or {@code null} when it is not set
     */
    <T> T get(String attribute);

    /**
     * @param attribute the attribute's name
     * @param value     its new value; {@code null} removes it
     */
    void set(String attribute, Object value);

    /**
     * @param attribute the attribute's name
     * @return whether it is set
     */
    boolean has(String attribute);

    /**
     * @param attribute the attribute's name
     * @return the value it had, or {@code null}
     */
    Object remove(String attribute);

    /** @return the names of the attributes set now */
    Set<String> names();

    /** @return a copy of every attribute and its value */
    Map<String, Object> snapshot();
}
