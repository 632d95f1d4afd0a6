/**
 * Typed memory shared by processes on one machine: {@link io.multiproc4j.shared.SharedMemory}
 * (named raw segments) and views with atomic operations ({@link io.multiproc4j.shared.SharedLong},
 * {@link io.multiproc4j.shared.SharedInt}, {@link io.multiproc4j.shared.SharedDouble}, their
 * {@code *Array} forms, {@link io.multiproc4j.shared.SharedBytes}).
 *
 * <h2>Conventions</h2>
 * <ul>
 *   <li>Segments are files {@code /dev/shm/mp4j-NAME} with a 64-byte header (see
 *       {@code internal.shm.SegmentLayout}); Linux x86-64 only.</li>
 *   <li>{@code create} owns (its {@code close()} removes the name), {@code attach} and deserialized
 *       handles borrow; a dead owner's segments are removed by the next {@code create}.</li>
 *   <li>Memory order, spelled out: atomic views read with {@code getVolatile}, write with
 *       {@code setVolatile}, and update with full-fence {@code getAndAdd}/{@code compareAndSet};
 *       unsynchronized views ({@code createUnsynchronized}) use plain {@code get}/{@code set}, and
 *       their read-modify-write methods are a plain read followed by a plain write.</li>
 *   <li>Handles are {@link java.io.Serializable}: only (segment name, creation nonce, offset,
 *       flags) travel; the receiving JVM maps the segment once and keeps it.</li>
 * </ul>
 */
package io.multiproc4j.shared;
