package io.multiproc4j.sync;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.multiproc4j.internal.shm.ProcessIdentity;
import io.multiproc4j.shared.Conditions;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Lock, reentrant lock and condition contracts with threads (ported from CPython's _test_multiprocessing). */
class ProcessLockTest {
    private final ExecutorService threads = Executors.newCachedThreadPool();

    @AfterEach
    void stopThreads() {
        threads.shutdownNow();
    }

    private <T> T inOtherThread(java.util.concurrent.Callable<T> task) throws Exception {
        return threads.submit(task).get(30, TimeUnit.SECONDS);
    }

    @Test
    void lock_counts_likeCPythonTestLock() {
        try (ProcessLock lock = ProcessLock.create()) {
            assertThat(lock.tryLock()).isTrue();
            assertThat(lock.tryLock()).as("not reentrant").isFalse();
            assertThat(lock.isHeldByCurrentThread()).isTrue();
            lock.unlock();
            assertThat(lock.isLocked()).isFalse();
            assertThatThrownBy(lock::unlock).isInstanceOf(IllegalMonitorStateException.class)
                    .hasMessageContaining("does not hold it").hasMessageContaining("nobody holds it");
        }
    }

    @Test
    void lock_byItsHolderAgain_failsInsteadOfDeadlocking() {
        try (ProcessLock lock = ProcessLock.create()) {
            lock.lock();
            assertThatThrownBy(lock::lock).isInstanceOf(IllegalMonitorStateException.class)
                    .hasMessageContaining("ProcessReentrantLock");
            lock.unlock();
        }
    }

    @Test
    void reentrantLock_counts_likeCPythonTestRLock() {
        try (ProcessReentrantLock lock = ProcessReentrantLock.create()) {
            assertThat(lock.tryLock()).isTrue();
            lock.lock();
            lock.lock();
            assertThat(lock.getHoldCount()).isEqualTo(3);
            lock.unlock();
            lock.unlock();
            assertThat(lock.isLocked()).isTrue();
            lock.unlock();
            assertThat(lock.isLocked()).isFalse();
            assertThat(lock.getHoldCount()).isZero();
            assertThatThrownBy(lock::unlock).isInstanceOf(IllegalMonitorStateException.class);
        }
    }

    @Test
    void unlock_byAnotherThread_isIllegalMonitorState_andNamesTheHolder() throws Exception {
        try (ProcessLock lock = ProcessLock.create()) {
            lock.lock();
            Throwable thrown = inOtherThread(() -> {
                try {
                    lock.unlock();
                    return null;
                } catch (IllegalMonitorStateException e) {
                    return e;
                }
            });
            assertThat(thrown).isInstanceOf(IllegalMonitorStateException.class)
                    .hasMessageContaining("held by pid " + ProcessIdentity.PID)
                    .hasMessageContaining("thread " + Thread.currentThread().threadId());
            assertThat(lock.isHeldByCurrentThread()).isTrue();
            lock.unlock();
        }
    }

    @Test
    void tryLock_withTimeout_failsWhileHeld_andSucceedsOnceReleased() throws Exception {
        try (ProcessLock lock = ProcessLock.create()) {
            lock.lock();
            long start = System.nanoTime();
            assertThat(inOtherThread(() -> lock.tryLock(100, TimeUnit.MILLISECONDS))).isFalse();
            assertThat(System.nanoTime() - start).isGreaterThanOrEqualTo(TimeUnit.MILLISECONDS.toNanos(100));
            CompletableFuture<Boolean> waiter = CompletableFuture.supplyAsync(() -> {
                try {
                    boolean got = lock.tryLock(20, TimeUnit.SECONDS);
                    lock.unlock();
                    return got;
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            }, threads);
            Conditions.await("a waiter registered", Duration.ofSeconds(10), () -> lock.info().waitingCount() == 1);
            ProcessLockInfo info = lock.info();
            assertThat(info.holder().pid()).isEqualTo(ProcessIdentity.PID);
            assertThat(info.holder().threadId()).isEqualTo(Thread.currentThread().threadId());
            assertThat(info.waiters()).extracting(ProcessLockInfo.ThreadRef::pid).containsExactly(ProcessIdentity.PID);
            lock.unlock();
            assertThat(waiter.get(30, TimeUnit.SECONDS)).isTrue();
        }
    }

    @Test
    void lockInterruptibly_interruptedWhileWaiting_throwsAndLeavesLockHeld() throws Exception {
        try (ProcessLock lock = ProcessLock.create()) {
            lock.lock();
            CompletableFuture<Thread> waiterThread = new CompletableFuture<>();
            var outcome = threads.submit(() -> {
                waiterThread.complete(Thread.currentThread());
                try {
                    lock.lockInterruptibly();
                    return "acquired";
                } catch (InterruptedException e) {
                    return "interrupted";
                }
            });
            Conditions.await("the waiter blocked", Duration.ofSeconds(10), () -> lock.info().waitingCount() == 1);
            waiterThread.get().interrupt();
            assertThat(outcome.get(10, TimeUnit.SECONDS)).isEqualTo("interrupted");
            assertThat(lock.isHeldByCurrentThread()).isTrue();
            assertThat(lock.info().waitingCount()).isZero();
            lock.unlock();
        }
    }

    @Test
    void mutualExclusion_fourThreads_exactCount() throws Exception {
        try (ProcessLock lock = ProcessLock.create()) {
            int[] plain = new int[1];
            var futures = new java.util.ArrayList<java.util.concurrent.Future<?>>();
            for (int t = 0; t < 4; t++) {
                futures.add(threads.submit(() -> {
                    for (int i = 0; i < 20_000; i++) {
                        lock.lock();
                        try {
                            plain[0]++;
                        } finally {
                            lock.unlock();
                        }
                    }
                }));
            }
            for (var f : futures) {
                f.get(60, TimeUnit.SECONDS);
            }
            lock.lock();
            try {
                assertThat(plain[0]).isEqualTo(80_000);
            } finally {
                lock.unlock();
            }
        }
    }

    @Test
    void condition_signalWakesExactlyOne_signalAllWakesTheRest_likeCPythonTestNotify() throws Exception {
        try (ProcessLock lock = ProcessLock.create()) {
            ProcessCondition condition = lock.newCondition();
            AtomicInteger woken = new AtomicInteger();
            var futures = new java.util.ArrayList<java.util.concurrent.Future<?>>();
            for (int t = 0; t < 3; t++) {
                futures.add(threads.submit(() -> {
                    lock.lock();
                    try {
                        if (!condition.await(30, TimeUnit.SECONDS)) {
                            throw new AssertionError("not signalled");
                        }
                        woken.incrementAndGet();
                    } finally {
                        lock.unlock();
                    }
                    return null;
                }));
            }
            Conditions.await("3 waiters", Duration.ofSeconds(10), () -> condition.waitingCount() == 3);
            lock.lock();
            try {
                condition.signal();
            } finally {
                lock.unlock();
            }
            Conditions.await("one woken", Duration.ofSeconds(10), () -> woken.get() == 1);
            lock.lock();
            try {
                assertThat(woken.get()).isEqualTo(1);
                assertThat(condition.waitingCount()).isEqualTo(2);
                condition.signalAll();
            } finally {
                lock.unlock();
            }
            for (var f : futures) {
                f.get(30, TimeUnit.SECONDS);
            }
            assertThat(woken.get()).isEqualTo(3);
        }
    }

    @Test
    void condition_signalTwice_wakesTwo_likeNotifyN() throws Exception {
        try (ProcessReentrantLock lock = ProcessReentrantLock.create()) {
            ProcessCondition condition = lock.newCondition();
            AtomicInteger woken = new AtomicInteger();
            for (int t = 0; t < 3; t++) {
                threads.submit(() -> {
                    lock.lock();
                    lock.lock(); // a held-twice lock is fully released while waiting
                    try {
                        condition.await(30, TimeUnit.SECONDS);
                        assertThat(lock.getHoldCount()).isEqualTo(2);
                        woken.incrementAndGet();
                    } finally {
                        lock.unlock();
                        lock.unlock();
                    }
                    return null;
                });
            }
            Conditions.await("3 waiters", Duration.ofSeconds(10), () -> condition.waitingCount() == 3);
            lock.lock();
            try {
                condition.signal();
                condition.signal();
            } finally {
                lock.unlock();
            }
            Conditions.await("two woken", Duration.ofSeconds(10), () -> woken.get() == 2);
            lock.lock();
            try {
                assertThat(condition.waitingCount()).isEqualTo(1);
                condition.signalAll();
            } finally {
                lock.unlock();
            }
            Conditions.await("all woken", Duration.ofSeconds(10), () -> woken.get() == 3);
        }
    }

    @Test
    void condition_signal_wakesTheOldestWaiter_first() throws Exception {
        try (ProcessLock lock = ProcessLock.create()) {
            ProcessCondition condition = lock.newCondition();
            java.util.List<Integer> wakeOrder = new java.util.concurrent.CopyOnWriteArrayList<>();
            java.util.List<CompletableFuture<?>> waiters = new java.util.ArrayList<>();
            for (int i = 0; i < 3; i++) {
                int me = i;
                waiters.add(CompletableFuture.runAsync(() -> Conditions.call(() -> {
                    lock.lock();
                    try {
                        if (!condition.await(30, TimeUnit.SECONDS)) {
                            throw new AssertionError("waiter " + me + " not signalled");
                        }
                        wakeOrder.add(me);
                    } finally {
                        lock.unlock();
                    }
                    return null;
                }), threads));
                // the next waiter comes only once this one waits: arrival order is 0, 1, 2
                int waiting = i + 1;
                Conditions.await(waiting + " waiting", Duration.ofSeconds(30), () -> condition.waitingCount() == waiting);
            }
            for (int i = 0; i < 3; i++) {
                int woken = i + 1;
                lock.lock();
                try {
                    condition.signal();
                } finally {
                    lock.unlock();
                }
                Conditions.await(woken + " woken", Duration.ofSeconds(30), () -> wakeOrder.size() == woken);
            }
            for (CompletableFuture<?> waiter : waiters) {
                waiter.get(30, TimeUnit.SECONDS);
            }
            assertThat(wakeOrder).as("signal() wakes in arrival order").containsExactly(0, 1, 2);
        }
    }

    @Test
    void condition_moreWaitersThanRecords_allWakeBySignalsAndSignalAll() throws Exception {
        int waiters = io.multiproc4j.internal.shm.LockLayout.CONDITION_WAITERS + 6; // some counted, not recorded
        try (ProcessLock lock = ProcessLock.create(); ExecutorService virtual = Executors.newVirtualThreadPerTaskExecutor()) {
            ProcessCondition condition = lock.newCondition();
            AtomicInteger woken = new AtomicInteger();
            java.util.List<CompletableFuture<?>> futures = new java.util.ArrayList<>();
            for (int i = 0; i < waiters; i++) {
                futures.add(CompletableFuture.runAsync(() -> Conditions.call(() -> {
                    lock.lock();
                    try {
                        if (!condition.await(60, TimeUnit.SECONDS)) {
                            throw new AssertionError("not signalled");
                        }
                        woken.incrementAndGet();
                    } finally {
                        lock.unlock();
                    }
                    return null;
                }), virtual));
            }
            Conditions.await(waiters + " waiting", Duration.ofSeconds(60), () -> condition.waitingCount() == waiters);
            int signals = waiters / 2;
            lock.lock();
            try {
                for (int i = 0; i < signals; i++) {
                    condition.signal();
                }
            } finally {
                lock.unlock();
            }
            Conditions.await(signals + " woken", Duration.ofSeconds(60), () -> woken.get() == signals);
            lock.lock();
            try {
                assertThat(condition.waitingCount()).isEqualTo(waiters - signals);
                condition.signalAll();
            } finally {
                lock.unlock();
            }
            for (CompletableFuture<?> f : futures) {
                f.get(60, TimeUnit.SECONDS);
            }
            assertThat(woken.get()).isEqualTo(waiters);
        }
    }

    @Test
    void condition_awaitTimesOut_andNeedsTheLock() throws Exception {
        try (ProcessLock lock = ProcessLock.create()) {
            ProcessCondition condition = lock.newCondition();
            assertThatThrownBy(condition::signal).isInstanceOf(IllegalMonitorStateException.class);
            assertThatThrownBy(condition::await).isInstanceOf(IllegalMonitorStateException.class);
            lock.lock();
            try {
                long start = System.nanoTime();
                assertThat(condition.await(Duration.ofMillis(100))).isFalse();
                assertThat(System.nanoTime() - start).isGreaterThanOrEqualTo(TimeUnit.MILLISECONDS.toNanos(100));
                assertThat(lock.isHeldByCurrentThread()).isTrue();
                assertThat(condition.waitingCount()).isZero();
            } finally {
                lock.unlock();
            }
        }
    }

    @Test
    void attachByName_sharesTheLock_andWrongKindIsRefused() throws Exception {
        String name = "test-lock-" + java.util.UUID.randomUUID();
        try (ProcessLock lock = ProcessLock.create(name); ProcessLock same = ProcessLock.attach(name)) {
            lock.lock();
            assertThat(inOtherThread(() -> same.tryLock())).isFalse();
            lock.unlock();
            assertThatThrownBy(() -> ProcessSemaphore.attach(name)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("not a ProcessSemaphore");
        }
    }

    @Test
    void virtualThreads_blockWithoutPinning_andAreWokenByUnlock() throws Exception {
        ExecutorService virtualThreads = Executors.newVirtualThreadPerTaskExecutor();
        try (ProcessLock lock = ProcessLock.create()) {
            int waiters = 50; // far more than carrier threads: pinned waiters would starve the rest
            var done = new java.util.concurrent.CountDownLatch(waiters);
            lock.lock();
            try {
                for (int i = 0; i < waiters; i++) {
                    virtualThreads.submit(() -> {
                        lock.lock();
                        lock.unlock();
                        done.countDown();
                        return null;
                    });
                }
                Conditions.await("virtual threads blocked", Duration.ofSeconds(10),
                        () -> lock.info().waitingCount() >= 10);
                var probe = virtualThreads.submit(() -> "carriers are free");
                assertThat(probe.get(10, TimeUnit.SECONDS)).isEqualTo("carriers are free");
            } finally {
                lock.unlock();
            }
            assertThat(done.await(30, TimeUnit.SECONDS)).isTrue();
        } finally {
            virtualThreads.shutdownNow();
        }
    }

    @Test
    void conditionSlots_areBounded() {
        try (ProcessLock lock = ProcessLock.create()) {
            for (int i = 0; i < 16; i++) {
                lock.newCondition();
            }
            assertThatThrownBy(lock::newCondition).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("16 conditions");
        }
    }
}
