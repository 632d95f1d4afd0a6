package io.multiproc4j.internal.sched;

import io.multiproc4j.SerializableFunction;

/**
 * The function of one call, encoded once for engines that ship tasks.
 *
 * @param function the function
 * @param bytes    its encoding, or {@code null} for in-JVM engines
 * @param id       unique per call, so workers cache the decoded function
 */
record FunctionSpec(SerializableFunction<Object, Object> function, byte[] bytes, long id) {}
