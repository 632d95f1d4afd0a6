package io.multiproc4j.manager;

import java.time.Duration;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/** Waits for a condition with a deadline (for state another process changes, with no event to block on). */
final class Conditions {
    private Conditions() {}

    static void await(BooleanSupplier condition, Duration timeout, Supplier<String> describe) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) {
                throw new AssertionError("not true within " + timeout + ": " + describe.get());
            }
            LockSupport.parkNanos(10_000_000);
        }
    }
}
