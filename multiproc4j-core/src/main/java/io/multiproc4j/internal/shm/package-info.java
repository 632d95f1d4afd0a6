/**
 * The machinery under {@code shared} and {@code sync}: segment files and their header
 * ({@link io.multiproc4j.internal.shm.Segment}, {@link io.multiproc4j.internal.shm.SegmentLayout}),
 * the futex system call ({@link io.multiproc4j.internal.shm.Futex}), process identity and
 * liveness ({@link io.multiproc4j.internal.shm.ProcessIdentity}), and the robust mutex and condition
 * the public primitives wrap ({@link io.multiproc4j.internal.shm.RobustMutex},
 * {@link io.multiproc4j.internal.shm.RobustCondition}).
 *
 * <h2>Memory-order naming</h2>
 * Every access to shared memory goes through a {@link java.lang.invoke.VarHandle} on a
 * {@link java.lang.foreign.MemorySegment}, with its mode spelled out at the call: {@code getVolatile}/
 * {@code setVolatile} where another process must see the order, {@code setRelease}/{@code getAcquire}
 * for records written by one owner and read as hints, {@code compareAndSet}/{@code getAndAdd}/
 * {@code getAndSet} (full fences) for every decision. On x86-64 these are atomic across processes
 * because the mapping is {@code MAP_SHARED} and naturally aligned.
 */
package io.multiproc4j.internal.shm;
