/**
 * Synchronization between processes (and threads), in shared memory:
 * {@link io.multiproc4j.sync.ProcessLock}, {@link io.multiproc4j.sync.ProcessReentrantLock} (both
 * {@link java.util.concurrent.locks.Lock}), {@link io.multiproc4j.sync.ProcessCondition},
 * {@link io.multiproc4j.sync.ProcessSemaphore}, {@link io.multiproc4j.sync.ProcessEvent},
 * {@link io.multiproc4j.sync.ProcessBarrier}, and {@link io.multiproc4j.sync.ProcessLockInfo} for
 * diagnostics.
 *
 * <h2>Conventions</h2>
 * <ul>
 *   <li>Each primitive lives in a segment of its own (layouts in {@code internal.shm.*Layout}); its
 *       handle is serializable and may be captured by tasks, or opened by name with {@code attach}.</li>
 *   <li>Blocking: a short spin, then {@code futex(2)} wait on a 32-bit word of the segment, sliced
 *       into waits of at most 50 ms so interrupts and dead lock holders are noticed.</li>
 *   <li>Locks are robust: a holder process that dies leaves the lock to the next locker, who sees
 *       {@code recoveredFromDeadHolder()} true. Semaphores, events and barriers have no owner and
 *       recover nothing: bound such waits with a timeout when processes may die.</li>
 * </ul>
 */
package io.multiproc4j.sync;
