package io.multiproc4j.internal.shm;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * The Linux {@code futex(2)} system call on a 32-bit word in shared memory, called through the FFM
 * linker as {@code syscall(SYS_futex, uaddr, op, val, timeout, NULL, 0)}.
 *
 * <p>Only the shared (non-{@code PRIVATE}) operations are used: the same word is mapped by several
 * processes through a {@code MAP_SHARED} mapping of a {@code /dev/shm} file, and the kernel keys a
 * shared futex by the file page, not by the virtual address, so the processes find each other.
 *
 * <h2>How callers wait</h2>
 * Every blocking primitive follows the same pattern: read the word, decide it must wait, then call
 * {@link #await} with the value it read. The kernel compares the word with that value atomically
 * with queueing the thread, so a wake that happens between the read and the wait is never lost
 * (the call returns at once). Callers always re-check their condition after {@code await} returns:
 * it may return early ({@code EAGAIN}, {@code EINTR}, a wake meant for another waiter, the slice
 * elapsing).
 *
 * <h2>Why waits are sliced</h2>
 * A Java interrupt does not send a signal to the native thread, and a dead process never wakes
 * anyone. So a wait sleeps in the kernel for at most {@link #SLICE_NANOS} and then returns, letting
 * the caller check {@link Thread#interrupted()} and holder liveness. This is not busy-waiting: a
 * blocked thread wakes 20 times a second at most.
 *
 * <h2>Virtual threads</h2>
 * A virtual thread sleeping in a system call would pin its carrier thread; virtual threads park
 * instead and re-read the word with a backoff capped at {@link #VIRTUAL_MAX_PAUSE_NANOS} (see
 * {@code parkVirtual}): a little latency and a few wake-ups, but carriers stay free.
 *
 * <p>Linux x86-64 only ({@code SYS_futex} is 202 there).
 */
@SuppressWarnings("restricted") // the one native call of the library; JVMs need --enable-native-access
public final class Futex {
    /** The longest one kernel wait lasts before the caller re-checks interrupts and liveness. */
    public static final long SLICE_NANOS = TimeUnit.MILLISECONDS.toNanos(50);
    /** How many times a waiter re-reads the word with {@link Thread#onSpinWait()} before parking. */
    public static final int SPINS = 100;
    /** The longest a blocked virtual thread parks before re-reading the word. */
    public static final long VIRTUAL_MAX_PAUSE_NANOS = TimeUnit.MILLISECONDS.toNanos(2);

    private static final long SYS_FUTEX = 202;
    private static final long FUTEX_WAIT = 0;
    private static final long FUTEX_WAKE = 1;

    private static final boolean SUPPORTED = ("amd64".equals(System.getProperty("os.arch"))
            || "x86_64".equals(System.getProperty("os.arch"))) && System.getProperty("os.name", "").startsWith("Linux");
    private static final VarHandle INT = ValueLayout.JAVA_INT.varHandle();

    /**
     * The downcall, linked at the first wait or wake, not when the class loads: a fresh JVM's first
     * FFM link costs 100–150 ms of CPU, and {@link #ensureSupported} (which every segment's create
     * and attach calls, a worker's rings included) must not pay it.
     */
    private static final class Syscall {
        static final MethodHandle HANDLE;

        static {
            Linker linker = Linker.nativeLinker();
            // long syscall(long number, ...): every argument after the first is variadic; passing them
            // all as 64-bit values matches what glibc moves into the syscall registers.
            HANDLE = linker.downcallHandle(
                    linker.defaultLookup().find("syscall").orElseThrow(),
                    FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG,
                            ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.ADDRESS,
                            ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG),
                    Linker.Option.firstVariadicArg(1));
        }

        private Syscall() {}
    }

    private Futex() {}

    /** @throws UnsupportedOperationException where futexes are not available (not Linux x86-64) */
    public static void ensureSupported() {
        if (!SUPPORTED) {
            throw new UnsupportedOperationException("multiproc4j shared memory and process synchronization need "
                    + "Linux on x86-64 (futex through syscall 202); this is " + System.getProperty("os.name")
                    + " on " + System.getProperty("os.arch"));
        }
    }

    /**
     * Sleeps in the kernel while the word at {@code offset} holds {@code expected}, for at most
     * {@code min(timeoutNanos, SLICE_NANOS)}. Returns at once when the word differs.
     *
     * @param segment      the mapped segment holding the word (4-byte aligned)
     * @param offset       the word's offset in {@code segment}
     * @param expected     the value the caller read and wants changed
     * @param timeoutNanos the most the caller is willing to wait now; values {@code <= 0} return at once
     */
    public static void await(MemorySegment segment, long offset, int expected, long timeoutNanos) {
        if (timeoutNanos <= 0) {
            return;
        }
        for (int i = 0; i < SPINS; i++) {
            if ((int) INT.getVolatile(segment, offset) != expected) {
                return;
            }
            Thread.onSpinWait();
        }
        if (Thread.currentThread().isVirtual()) {
            parkVirtual(segment, offset, expected, Math.min(timeoutNanos, SLICE_NANOS));
            return;
        }
        long nanos = Math.min(timeoutNanos, SLICE_NANOS);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment timespec = arena.allocate(16, 8);
            timespec.set(ValueLayout.JAVA_LONG, 0, nanos / 1_000_000_000L);
            timespec.set(ValueLayout.JAVA_LONG, 8, nanos % 1_000_000_000L);
            long address = segment.address() + offset;
            // The result is ignored on purpose: 0, EAGAIN, EINTR and ETIMEDOUT all mean "re-check".
            long ignored = (long) Syscall.HANDLE.invokeExact(SYS_FUTEX, address, FUTEX_WAIT, expected & 0xFFFF_FFFFL,
                    timespec, 0L, 0L);
            assert ignored >= -1;
        } catch (Throwable t) {
            throw new IllegalStateException("futex wait failed", t);
        }
    }

    /**
     * A virtual thread must not sleep in a system call: it would hold its carrier thread. It parks
     * instead, re-reading the word after 50 µs, then twice as long each time up to 2 ms, so a
     * blocked virtual thread costs a few hundred cheap wake-ups a second at most.
     */
    private static void parkVirtual(MemorySegment segment, long offset, int expected, long nanos) {
        long deadline = System.nanoTime() + nanos;
        long pause = 50_000;
        while ((int) INT.getVolatile(segment, offset) == expected && !Thread.currentThread().isInterrupted()) {
            long remaining = deadline - System.nanoTime();
            if (remaining <= 0) {
                return;
            }
            LockSupport.parkNanos(Math.min(pause, remaining));
            pause = Math.min(pause * 2, VIRTUAL_MAX_PAUSE_NANOS);
        }
    }

    /**
     * Wakes up to {@code count} threads (of any process) sleeping on the word at {@code offset}.
     *
     * @param segment the mapped segment holding the word
     * @param offset  the word's offset in {@code segment}
     * @param count   how many to wake; {@link Integer#MAX_VALUE} for all
     * @return how many were woken
     */
    public static int wake(MemorySegment segment, long offset, int count) {
        try {
            long address = segment.address() + offset;
            return (int) (long) Syscall.HANDLE.invokeExact(SYS_FUTEX, address, FUTEX_WAKE, (long) count,
                    MemorySegment.NULL, 0L, 0L);
        } catch (Throwable t) {
            throw new IllegalStateException("futex wake failed", t);
        }
    }
}
