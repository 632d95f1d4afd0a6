/**
 * Answers to "will parallelism pay here?" and "why is it stuck?": the CPU {@link
 * io.multiproc4j.diagnostics.Topology} this process may use, {@link io.multiproc4j.diagnostics.Amdahl}'s
 * and Gustafson's laws with the Karp–Flatt serial fraction, and a {@link
 * io.multiproc4j.diagnostics.DeadlockWatchdog} a program can run in itself. The {@code multiproc}
 * command's {@code topology}, {@code amdahl} and {@code deadlocks} are built on these.
 */
package io.multiproc4j.diagnostics;
