/**
 * Message passing between processes of one machine: {@link io.multiproc4j.ipc.Pipe} (two
 * {@link io.multiproc4j.ipc.Connection} ends, duplex or one-way, with one buffering rule for
 * both), {@link io.multiproc4j.ipc.ProcessQueue} (a bounded multi-producer, multi-consumer
 * {@link java.util.concurrent.BlockingQueue}) and {@link io.multiproc4j.ipc.JoinableProcessQueue}.
 *
 * <h2>Conventions</h2>
 * <ul>
 *   <li>Everything lives in {@code /dev/shm} segments (rings of framed messages, see
 *       {@code internal.ipc.RingLayout}); messages larger than a quarter of a ring travel through a
 *       temporary file. Linux x86-64 only.</li>
 *   <li>Objects are encoded with {@link io.multiproc4j.spi.Codec#standard()}; an object that cannot
 *       be encoded is refused by the call that gave it, and nothing is sent.</li>
 *   <li>Ends and queues are {@link java.io.Serializable} handles: a task that captures one uses the
 *       same pipe or queue in the worker.</li>
 *   <li>A process killed mid-send, mid-put or mid-take never wedges a pipe or queue for the others.</li>
 * </ul>
 */
package io.multiproc4j.ipc;
