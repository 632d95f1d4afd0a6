package io.multiproc4j.ipc;

import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

/** Small helpers for ipc tests. */
final class Conditions {
    private Conditions() {}

    /**
     * Runs code that throws checked exceptions inside a lambda that cannot.
     *
     * @param body the code
     * @param <T>  its result type
     * @return its result
     */
    static <T> T call(Callable<T> body) {
        try {
            return body.call();
        } catch (RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Polls {@code condition} every millisecond until it holds (never a bare sleep).
     *
     * @param what      names the condition in the failure message
     * @param timeout   the deadline
     * @param condition what to wait for
     */
    static void await(String what, Duration timeout, BooleanSupplier condition) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out after " + timeout + " waiting for: " + what);
            }
            LockSupport.parkNanos(1_000_000);
        }
    }
}
