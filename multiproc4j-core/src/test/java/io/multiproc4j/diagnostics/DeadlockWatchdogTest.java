package io.multiproc4j.diagnostics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import org.junit.jupiter.api.Test;

class DeadlockWatchdogTest {

    @Test
    void watchdog_reportsADeadlock_inPlainWords() throws Exception {
        assertThat(DeadlockWatchdog.check()).as("no deadlock before the test").isEmpty();
        ReentrantLock left = new ReentrantLock();
        ReentrantLock right = new ReentrantLock();
        CountDownLatch bothHeld = new CountDownLatch(2);
        Thread a = crossLocker("watchdog-test-a", left, right, bothHeld);
        Thread b = crossLocker("watchdog-test-b", right, left, bothHeld);
        CompletableFuture<DeadlockWatchdog.Deadlock> found = new CompletableFuture<>();
        DeadlockWatchdog watchdog = DeadlockWatchdog.start(Duration.ofMillis(20), found::complete);
        try {
            a.start();
            b.start();
            DeadlockWatchdog.Deadlock d = found.get(30, TimeUnit.SECONDS);
            List<String> names = d.threads().stream().map(t -> t.getThreadName()).toList();
            assertThat(names).containsExactlyInAnyOrder("watchdog-test-a", "watchdog-test-b");
            assertThat(d.describe()).contains("2 threads wait for each other")
                    .contains("thread \"watchdog-test-a\"").contains("held by thread \"watchdog-test-b\"")
                    .contains("java.util.concurrent.locks.ReentrantLock").contains("crossLocker");
        } finally {
            watchdog.close();
            // lockInterruptibly lets the test undo its deadlock
            a.interrupt();
            b.interrupt();
            a.join(10_000);
            b.join(10_000);
        }
        assertThat(a.isAlive() || b.isAlive()).isFalse();
        assertThat(DeadlockWatchdog.check()).isEmpty();
    }

    @Test
    void start_refusesANonPositiveInterval() {
        assertThatThrownBy(() -> DeadlockWatchdog.start(Duration.ZERO))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("positive");
    }

    private static Thread crossLocker(String name, ReentrantLock first, ReentrantLock second, CountDownLatch bothHeld) {
        return new Thread(() -> {
            try {
                first.lockInterruptibly();
                try {
                    bothHeld.countDown();
                    bothHeld.await();
                    second.lockInterruptibly();
                    second.unlock();
                } finally {
                    first.unlock();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, name);
    }
}
