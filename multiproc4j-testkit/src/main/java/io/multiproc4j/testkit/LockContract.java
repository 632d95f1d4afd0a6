package io.multiproc4j.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.Lock;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The {@link Lock} contract every backend must keep: bind it by extending this class and making
 * {@link #newLock()} return a fresh lock of the backend (a {@code ProcessLock}, a manager proxy,
 * the JDK's {@code ReentrantLock} as a baseline). Threads of this JVM play the contenders, so the
 * suite needs nothing but the lock.
 *
 * <p>What it checks: mutual exclusion, {@code tryLock} with and without timeout, interruptible
 * locking, {@link IllegalMonitorStateException} for an unlock by a thread that does not hold the
 * lock, and conditions ({@code signal} wakes one, {@code signalAll} wakes all, timeouts). Reentrancy
 * is checked only where {@link #isReentrant()} says so.
 */
public abstract class LockContract {
    /** Bounds every wait of the suite, so a broken lock fails the test instead of hanging it. */
    protected static final Duration DEADLINE = Duration.ofSeconds(30);

    private ExecutorService threads;
    private final List<AutoCloseable> toClose = new ArrayList<>();

    /** @return a new, unlocked lock of the backend under test */
    protected abstract Lock newLock();

    /** @return whether the holder may lock again (as {@code ReentrantLock}) */
    protected abstract boolean isReentrant();

    /** @return whether {@link Lock#newCondition()} is supported */
    protected boolean supportsConditions() {
        return true;
    }

    /** Skips (not passes) a condition test where the backend has no {@code newCondition()}. */
    private void assumeConditions() {
        Assumptions.assumeTrue(supportsConditions(), getClass().getSimpleName()
                + " declares no Lock.newCondition(): its condition tests do not apply");
    }

    private Lock lock() {
        Lock lock = newLock();
        if (lock instanceof AutoCloseable closeable) {
            toClose.add(closeable);
        }
        return lock;
    }

    @BeforeEach
    void startThreads() {
        threads = Executors.newCachedThreadPool();
    }

    @AfterEach
    void stopThreads() throws Exception {
        threads.shutdownNow();
        for (AutoCloseable c : toClose) {
            c.close();
        }
    }

    private <T> T inOtherThread(java.util.concurrent.Callable<T> task) throws Exception {
        return threads.submit(task).get(DEADLINE.toSeconds(), TimeUnit.SECONDS);
    }

    private static void await(String what, BooleanSupplier condition) {
        long deadline = System.nanoTime() + DEADLINE.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for: " + what);
            }
            LockSupport.parkNanos(1_000_000);
        }
    }

    @Test
    void tryLock_succeedsWhenFree_andFailsInAnotherThreadWhileHeld() throws Exception {
        Lock lock = lock();
        assertThat(lock.tryLock()).isTrue();
        try {
            assertThat(inOtherThread(() -> lock.tryLock())).isFalse();
        } finally {
            lock.unlock();
        }
        assertThat(inOtherThread(() -> {
            boolean got = lock.tryLock();
            if (got) {
                lock.unlock();
            }
            return got;
        })).isTrue();
    }

    @Test
    void tryLockWithTimeout_waitsAtLeastTheTimeout_whileHeld() throws Exception {
        Lock lock = lock();
        lock.lock();
        try {
            long start = System.nanoTime();
            assertThat(inOtherThread(() -> lock.tryLock(50, TimeUnit.MILLISECONDS))).isFalse();
            assertThat(System.nanoTime() - start).isGreaterThanOrEqualTo(TimeUnit.MILLISECONDS.toNanos(50));
        } finally {
            lock.unlock();
        }
    }

    @Test
    void unlock_handsTheLockToABlockedThread() throws Exception {
        Lock lock = lock();
        AtomicInteger started = new AtomicInteger();
        lock.lock();
        Future<Boolean> waiter = threads.submit(() -> {
            started.incrementAndGet();
            lock.lock();
            lock.unlock();
            return true;
        });
        await("the waiter started", () -> started.get() == 1);
        lock.unlock();
        assertThat(waiter.get(DEADLINE.toSeconds(), TimeUnit.SECONDS)).isTrue();
    }

    @Test
    void unlock_byAThreadThatDoesNotHoldIt_isIllegalMonitorState() throws Exception {
        Lock lock = lock();
        lock.lock();
        try {
            Throwable thrown = inOtherThread(() -> {
                try {
                    lock.unlock();
                    return null;
                } catch (IllegalMonitorStateException e) {
                    return e;
                }
            });
            assertThat(thrown).isInstanceOf(IllegalMonitorStateException.class);
            assertThat(inOtherThread(() -> lock.tryLock())).as("still held").isFalse();
        } finally {
            lock.unlock();
        }
    }

    @Test
    void unlock_whenFree_isIllegalMonitorState() {
        Lock lock = lock();
        assertThatThrownBy(lock::unlock).isInstanceOf(IllegalMonitorStateException.class);
    }

    @Test
    void lockInterruptibly_throwsWhenInterruptedWhileWaiting() throws Exception {
        Lock lock = lock();
        lock.lock();
        try {
            CompletableFuture<Thread> waiterThread = new CompletableFuture<>();
            AtomicInteger calling = new AtomicInteger();
            Future<String> outcome = threads.submit(() -> {
                waiterThread.complete(Thread.currentThread());
                calling.incrementAndGet();
                try {
                    lock.lockInterruptibly();
                    lock.unlock();
                    return "acquired";
                } catch (InterruptedException e) {
                    return "interrupted";
                }
            });
            await("the waiter is about to lock", () -> calling.get() == 1);
            waiterThread.get().interrupt(); // before or during the wait: both must throw
            assertThat(outcome.get(DEADLINE.toSeconds(), TimeUnit.SECONDS)).isEqualTo("interrupted");
        } finally {
            lock.unlock();
        }
    }

    @Test
    void mutualExclusion_fourThreadsIncrementAPlainCounter_exactly() throws Exception {
        Lock lock = lock();
        int[] counter = new int[1];
        List<Future<?>> futures = new ArrayList<>();
        for (int t = 0; t < 4; t++) {
            futures.add(threads.submit(() -> {
                for (int i = 0; i < 5_000; i++) {
                    lock.lock();
                    try {
                        counter[0]++;
                    } finally {
                        lock.unlock();
                    }
                }
            }));
        }
        for (Future<?> f : futures) {
            f.get(DEADLINE.toSeconds(), TimeUnit.SECONDS);
        }
        lock.lock();
        try {
            assertThat(counter[0]).isEqualTo(20_000);
        } finally {
            lock.unlock();
        }
    }

    @Test
    void reentrancy_asDeclared() throws Exception {
        Lock lock = lock();
        lock.lock();
        try {
            if (isReentrant()) {
                assertThat(lock.tryLock()).isTrue();
                lock.unlock();
                assertThat(inOtherThread(() -> lock.tryLock())).as("one hold left").isFalse();
            } else {
                assertThat(lock.tryLock()).as("not reentrant").isFalse();
            }
        } finally {
            lock.unlock();
        }
        assertThat(inOtherThread(() -> {
            boolean got = lock.tryLock();
            if (got) {
                lock.unlock();
            }
            return got;
        })).isTrue();
    }

    @Test
    void condition_signalWakesOne_signalAllWakesAll() throws Exception {
        assumeConditions();
        Lock lock = lock();
        Condition condition = lock.newCondition();
        AtomicInteger waiting = new AtomicInteger();
        AtomicInteger woken = new AtomicInteger();
        List<Future<?>> futures = new ArrayList<>();
        for (int t = 0; t < 3; t++) {
            futures.add(threads.submit(() -> {
                lock.lock();
                try {
                    waiting.incrementAndGet();
                    // one wait, no predicate loop: the test counts wakeups (a spurious one would
                    // only make the final count arrive early, never wrong)
                    if (condition.awaitNanos(DEADLINE.toNanos()) <= 0) {
                        throw new AssertionError("not signalled within " + DEADLINE);
                    }
                    woken.incrementAndGet();
                } finally {
                    lock.unlock();
                }
                return null;
            }));
        }
        await("3 waiters", () -> waiting.get() == 3);
        // a waiter may be between incrementing and awaiting: taking the lock waits for it to await
        lock.lock();
        try {
            condition.signal();
        } finally {
            lock.unlock();
        }
        await("one woken", () -> woken.get() >= 1);
        lock.lock();
        try {
            // Wait on the condition ourselves for a moment: that releases the lock, so any waiter the
            // signal woke besides the first gets the lock and counts itself before we look.
            condition.await(100, TimeUnit.MILLISECONDS);
            assertThat(woken.get()).as("waiters woken by one signal()").isEqualTo(1);
            condition.signalAll();
        } finally {
            lock.unlock();
        }
        for (Future<?> f : futures) {
            f.get(DEADLINE.toSeconds(), TimeUnit.SECONDS);
        }
        assertThat(woken.get()).isEqualTo(3);
    }

    @Test
    void condition_awaitTimesOut_holdingTheLockAgain() throws Exception {
        assumeConditions();
        Lock lock = lock();
        Condition condition = lock.newCondition();
        lock.lock();
        try {
            long start = System.nanoTime();
            assertThat(condition.await(50, TimeUnit.MILLISECONDS)).isFalse();
            assertThat(System.nanoTime() - start).isGreaterThanOrEqualTo(TimeUnit.MILLISECONDS.toNanos(50));
            assertThat(inOtherThread(() -> lock.tryLock())).as("held again after the wait").isFalse();
        } finally {
            lock.unlock();
        }
    }

    @Test
    void condition_methodsWithoutTheLock_areIllegalMonitorState() {
        assumeConditions();
        Lock lock = lock();
        Condition condition = lock.newCondition();
        assertThatThrownBy(condition::signal).isInstanceOf(IllegalMonitorStateException.class);
        assertThatThrownBy(condition::await).isInstanceOf(IllegalMonitorStateException.class);
    }
}
