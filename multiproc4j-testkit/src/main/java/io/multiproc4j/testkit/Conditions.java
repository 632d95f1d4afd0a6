package io.multiproc4j.testkit;

import java.time.Duration;
import java.util.function.BooleanSupplier;

/** Waiting on a condition with a deadline: what tests use instead of sleeping. */
public final class Conditions {
    private Conditions() {}

    /**
     * Polls {@code condition} until it holds, or fails at the deadline.
     *
     * @param what      what is awaited, for the failure message
     * @param timeout   the deadline
     * @param condition the condition
     */
    public static void await(String what, Duration timeout, BooleanSupplier condition) {
        long deadline = System.nanoTime() + timeout.toNanos();
        long pause = 1;
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) {
                throw new AssertionError("timed out after " + timeout.toMillis() + " ms waiting for " + what);
            }
            java.util.concurrent.locks.LockSupport.parkNanos(pause * 1_000_000);
            pause = Math.min(pause * 2, 20);
        }
    }

    /**
     * @param pid a process id
     * @return whether a live (non-zombie) process has it
     */
    public static boolean alive(long pid) {
        return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false) && !zombie(pid);
    }

    private static boolean zombie(long pid) {
        try {
            String stat = java.nio.file.Files.readString(java.nio.file.Path.of("/proc", Long.toString(pid), "stat"));
            int close = stat.lastIndexOf(')');
            return close > 0 && stat.length() > close + 2 && stat.charAt(close + 2) == 'Z';
        } catch (java.io.IOException e) {
            return false;
        }
    }
}
