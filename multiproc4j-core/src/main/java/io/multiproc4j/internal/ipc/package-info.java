/**
 * The machinery under {@code ipc}: {@link io.multiproc4j.internal.ipc.MessageRing} (a robust,
 * futex-blocking ring of framed messages; layout in {@link io.multiproc4j.internal.ipc.RingLayout}),
 * {@link io.multiproc4j.internal.ipc.PipeLayout} (a pipe's two ends and rings) and
 * {@link io.multiproc4j.internal.ipc.SpillFiles} (messages too large for a ring).
 *
 * <h2>Memory-order naming</h2>
 * As in {@code internal.shm}: ring positions, counts, sequence words and states are read with
 * {@code getVolatile} and changed with {@code setVolatile} or full-fence {@code getAndAdd}/
 * {@code compareAndSet}; record bytes are written and read with plain accesses under the ring's
 * lock, whose release (a full-fence {@code getAndSet}) publishes them.
 */
package io.multiproc4j.internal.ipc;
