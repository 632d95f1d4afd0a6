package io.multiproc4j.shared;

import java.time.Duration;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

/** Waiting for a condition with a deadline, for tests (never a bare sleep). */
public final class Conditions {
    private Conditions() {}

    /**
     * Runs code that throws checked exceptions inside a task lambda (pool functions do not declare them).
     *
     * @param body the code
     * @param <T>  its result type
     * @return its result
     */
    public static <T> T call(java.util.concurrent.Callable<T> body) {
        try {
            return body.call();
        } catch (RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Polls {@code condition} every millisecond until it holds.
     *
     * @param what      names the condition in the failure message
     * @param timeout   the deadline
     * @param condition what to wait for
     * @throws AssertionError when the deadline passes first
     */
    public static void await(String what, Duration timeout, BooleanSupplier condition) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out after " + timeout + " waiting for: " + what);
            }
            LockSupport.parkNanos(1_000_000);
        }
    }
}
