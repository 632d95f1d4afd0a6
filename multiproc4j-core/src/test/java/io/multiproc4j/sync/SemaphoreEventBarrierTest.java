package io.multiproc4j.sync;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.multiproc4j.shared.Conditions;
import io.multiproc4j.shared.SharedInt;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BrokenBarrierException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Semaphore, event and barrier contracts with threads (ported from CPython's _test_multiprocessing). */
class SemaphoreEventBarrierTest {
    private final ExecutorService threads = Executors.newCachedThreadPool();

    @AfterEach
    void stopThreads() {
        threads.shutdownNow();
    }

    @Test
    void semaphore_counts_likeCPythonTestSemaphore() throws Exception {
        try (ProcessSemaphore semaphore = ProcessSemaphore.create(2)) {
            semaphore.acquire();
            assertThat(semaphore.availablePermits()).isEqualTo(1);
            semaphore.acquire();
            assertThat(semaphore.tryAcquire()).isFalse();
            semaphore.release();
            assertThat(semaphore.availablePermits()).isEqualTo(1);
            semaphore.release();
            semaphore.release(); // unbounded: may exceed the initial count
            assertThat(semaphore.availablePermits()).isEqualTo(3);
            assertThat(semaphore.bound()).isEqualTo(-1);
        }
    }

    @Test
    void semaphore_timeouts_likeCPythonTestTimeout() throws Exception {
        try (ProcessSemaphore semaphore = ProcessSemaphore.create(0)) {
            assertThat(semaphore.tryAcquire(0, TimeUnit.SECONDS)).isFalse();
            long start = System.nanoTime();
            assertThat(semaphore.tryAcquire(Duration.ofMillis(150))).isFalse();
            assertThat(System.nanoTime() - start).isGreaterThanOrEqualTo(TimeUnit.MILLISECONDS.toNanos(150));
        }
    }

    @Test
    void boundedSemaphore_releaseBeyondBound_failsClearly() throws Exception {
        try (ProcessSemaphore semaphore = ProcessSemaphore.createBounded(1)) {
            assertThatThrownBy(semaphore::release).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("bounded to 1");
            semaphore.acquire();
            semaphore.release();
            assertThat(semaphore.availablePermits()).isEqualTo(1);
        }
        assertThatThrownBy(() -> ProcessSemaphore.create(-1)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void semaphore_releaseWakesABlockedThread() throws Exception {
        try (ProcessSemaphore semaphore = ProcessSemaphore.create(0)) {
            Future<Boolean> waiter = threads.submit(() -> semaphore.tryAcquire(30, TimeUnit.SECONDS));
            semaphore.release();
            assertThat(waiter.get(30, TimeUnit.SECONDS)).isTrue();
            assertThat(semaphore.availablePermits()).isZero();
        }
    }

    @Test
    void event_setClearAwait_likeCPythonTestEvent() throws Exception {
        try (ProcessEvent event = ProcessEvent.create()) {
            assertThat(event.isSet()).isFalse();
            long start = System.nanoTime();
            assertThat(event.await(Duration.ofMillis(100))).isFalse();
            assertThat(System.nanoTime() - start).isGreaterThanOrEqualTo(TimeUnit.MILLISECONDS.toNanos(100));
            event.set();
            assertThat(event.isSet()).isTrue();
            assertThat(event.await(Duration.ZERO)).isTrue();
            event.clear();
            assertThat(event.isSet()).isFalse();

            List<Future<Boolean>> waiters = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                waiters.add(threads.submit(() -> event.await(30, TimeUnit.SECONDS)));
            }
            event.set();
            for (Future<Boolean> waiter : waiters) {
                assertThat(waiter.get(30, TimeUnit.SECONDS)).isTrue();
            }
        }
    }

    @Test
    void barrier_indexZeroExactlyOncePerGeneration_andActionRunsOnce() throws Exception {
        int parties = 4;
        int generations = 5;
        try (SharedInt actions = SharedInt.create(0);
             ProcessBarrier barrier = ProcessBarrier.create(parties, actions::incrementAndGet)) {
            List<Future<List<Integer>>> results = new ArrayList<>();
            for (int t = 0; t < parties; t++) {
                results.add(threads.submit(() -> {
                    List<Integer> indexes = new ArrayList<>();
                    for (int g = 0; g < generations; g++) {
                        indexes.add(barrier.await(30, TimeUnit.SECONDS));
                    }
                    return indexes;
                }));
            }
            for (int g = 0; g < generations; g++) {
                List<Integer> indexesOfGeneration = new ArrayList<>();
                for (Future<List<Integer>> r : results) {
                    indexesOfGeneration.add(r.get(30, TimeUnit.SECONDS).get(g));
                }
                assertThat(indexesOfGeneration).containsExactlyInAnyOrder(0, 1, 2, 3);
            }
            assertThat(actions.get()).isEqualTo(generations);
            assertThat(barrier.isBroken()).isFalse();
        }
    }

    @Test
    void barrier_abort_breaksWaitersAndLaterCalls_untilReset() throws Exception {
        try (ProcessBarrier barrier = ProcessBarrier.create(3)) {
            Future<Object> waiter = threads.submit(() -> barrier.await());
            Conditions.await("one waiting", Duration.ofSeconds(10), () -> barrier.numberWaiting() == 1);
            barrier.abort();
            assertThat(catchCause(waiter)).isInstanceOf(BrokenBarrierException.class);
            assertThat(barrier.isBroken()).isTrue();
            assertThatThrownBy(barrier::await).isInstanceOf(BrokenBarrierException.class)
                    .hasMessageContaining("reset()");
            barrier.reset();
            assertThat(barrier.isBroken()).isFalse();
            assertBarrierWorks(barrier);
        }
    }

    @Test
    void barrier_reset_breaksCurrentWaiters_andStartsAFreshGeneration() throws Exception {
        try (ProcessBarrier barrier = ProcessBarrier.create(3)) {
            Future<Object> a = threads.submit(() -> barrier.await());
            Future<Object> b = threads.submit(() -> barrier.await());
            Conditions.await("two waiting", Duration.ofSeconds(10), () -> barrier.numberWaiting() == 2);
            barrier.reset();
            assertThat(catchCause(a)).isInstanceOf(BrokenBarrierException.class);
            assertThat(catchCause(b)).isInstanceOf(BrokenBarrierException.class);
            assertThat(barrier.isBroken()).isFalse();
            assertBarrierWorks(barrier);
        }
    }

    @Test
    void barrier_timeout_throwsTimeout_andBreaksTheOthers() throws Exception {
        try (ProcessBarrier barrier = ProcessBarrier.create(3)) {
            Future<Object> other = threads.submit(() -> barrier.await(30, TimeUnit.SECONDS));
            Conditions.await("one waiting", Duration.ofSeconds(10), () -> barrier.numberWaiting() == 1);
            assertThatThrownBy(() -> barrier.await(Duration.ofMillis(100))).isInstanceOf(TimeoutException.class)
                    .hasMessageContaining("2 of 3");
            assertThat(catchCause(other)).isInstanceOf(BrokenBarrierException.class);
            assertThat(barrier.isBroken()).isTrue();
        }
    }

    @Test
    void barrier_failingAction_breaksTheBarrier_andReachesTheLastParty() throws Exception {
        try (ProcessBarrier barrier = ProcessBarrier.create(2, () -> {
            throw new IllegalStateException("action failed");
        })) {
            Future<Object> first = threads.submit(() -> barrier.await(30, TimeUnit.SECONDS));
            Conditions.await("one waiting", Duration.ofSeconds(10), () -> barrier.numberWaiting() == 1);
            assertThatThrownBy(barrier::await).isInstanceOf(IllegalStateException.class).hasMessage("action failed");
            assertThat(catchCause(first)).isInstanceOf(BrokenBarrierException.class);
        }
    }

    @Test
    void everyPrimitive_usedAfterClose_failsNamingIt() {
        ProcessLock lock = ProcessLock.create();
        ProcessCondition condition = lock.newCondition();
        ProcessSemaphore semaphore = ProcessSemaphore.create(1);
        ProcessEvent event = ProcessEvent.create();
        ProcessBarrier barrier = ProcessBarrier.create(2);
        lock.close();
        semaphore.close();
        event.close();
        barrier.close();
        assertThatThrownBy(lock::lock).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("ProcessLock '" + lock.name() + "' is closed");
        assertThatThrownBy(condition::signal).isInstanceOf(IllegalStateException.class).hasMessageContaining("closed");
        assertThatThrownBy(semaphore::tryAcquire).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("ProcessSemaphore");
        assertThatThrownBy(event::set).isInstanceOf(IllegalStateException.class).hasMessageContaining("ProcessEvent");
        assertThatThrownBy(barrier::await).isInstanceOf(IllegalStateException.class).hasMessageContaining("ProcessBarrier");
        assertThatThrownBy(() -> ProcessLock.attach(lock.name()))
                .isInstanceOf(io.multiproc4j.shared.SharedMemoryException.class).hasMessageContaining(lock.name());
    }

    private void assertBarrierWorks(ProcessBarrier barrier) throws Exception {
        List<Future<Integer>> all = new ArrayList<>();
        for (int i = 0; i < barrier.parties(); i++) {
            all.add(threads.submit(() -> barrier.await(30, TimeUnit.SECONDS)));
        }
        List<Integer> indexes = new ArrayList<>();
        for (Future<Integer> f : all) {
            indexes.add(f.get(30, TimeUnit.SECONDS));
        }
        assertThat(indexes).containsExactlyInAnyOrder(0, 1, 2);
    }

    private static Throwable catchCause(Future<?> future) throws Exception {
        try {
            future.get(30, TimeUnit.SECONDS);
            return null;
        } catch (java.util.concurrent.ExecutionException e) {
            return e.getCause();
        }
    }
}
