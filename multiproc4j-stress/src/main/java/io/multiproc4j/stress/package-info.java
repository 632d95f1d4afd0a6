/**
 * jcstress tests of multiproc4j's shared-memory atomics and of the process lock's word.
 *
 * <p>Each test's {@code @State} creates its own small segment (a {@code SharedLong} or a
 * {@code ProcessLock} in {@code /dev/shm}); the {@code @Arbiter}, which jcstress runs once per state
 * after every actor of it has finished, checks the end result and closes the segment, which unlinks it,
 * so the many states jcstress creates do not pile up files in {@code /dev/shm}.
 *
 * <p>The actors are threads of one JVM. That is the same hardware path as two processes: the
 * segment is a {@code MAP_SHARED} mapping, and atomicity comes from {@code LOCK}-prefixed
 * instructions on it, which do not care which address space issued them.
 */
package io.multiproc4j.stress;
