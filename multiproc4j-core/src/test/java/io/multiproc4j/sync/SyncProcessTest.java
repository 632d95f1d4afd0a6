package io.multiproc4j.sync;

import static org.assertj.core.api.Assertions.assertThat;

import io.multiproc4j.Pool;
import io.multiproc4j.shared.ChildJvm;
import static io.multiproc4j.shared.Conditions.call;

import io.multiproc4j.shared.Conditions;
import io.multiproc4j.shared.SharedInt;
import io.multiproc4j.shared.SharedLong;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Every primitive across real processes: worker JVMs of one shared pool, the test JVM, and helper
 * JVMs that die (SIGKILL, {@code Runtime.halt}) while holding a lock. Pool workers never die here:
 * the tests rely on both workers being up to run tasks side by side.
 */
class SyncProcessTest {
    private static final int WORKERS = 2;
    private static Pool pool;

    @BeforeAll
    static void startPool() {
        pool = Pool.processes(WORKERS);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        Set<Long> pids = new HashSet<>();
        while (pids.size() < WORKERS && System.nanoTime() < deadline) {
            pids.addAll(pool.map(i -> ProcessHandle.current().pid(), range(WORKERS * 4), 1));
        }
        assertThat(pids).as("all workers started").hasSize(WORKERS);
    }

    @AfterAll
    static void stopPool() {
        pool.close();
    }

    private static List<Integer> range(int n) {
        return IntStream.range(0, n).boxed().toList();
    }

    @Test
    void lockHeldByKilledProcess_isTakenOverByTheNextLocker_whoIsTold() throws Exception {
        String name = "test-deadholder-" + UUID.randomUUID();
        try (ProcessLock lock = ProcessLock.create(name)) {
            long holderPid;
            try (ChildJvm holder = ChildJvm.start("lock-and-hang", name)) {
                holder.awaitLine("LOCKED", Duration.ofSeconds(30));
                holderPid = holder.pid();
                ProcessLockInfo info = lock.info();
                assertThat(info.holder().pid()).isEqualTo(holderPid);
                assertThat(info.holder().alive()).isTrue();
                assertThat(ProcessLockInfo.heldBy(holderPid)).extracting(ProcessLockInfo::name).contains(name);
                assertThat(lock.tryLock()).isFalse();
                holder.kill();
            }
            long start = System.nanoTime();
            assertThat(lock.tryLock(10, TimeUnit.SECONDS)).as("taken over from the dead holder").isTrue();
            try {
                assertThat(System.nanoTime() - start).as("within the deadline").isLessThan(TimeUnit.SECONDS.toNanos(10));
                assertThat(lock.recoveredFromDeadHolder()).isTrue();
                assertThat(lock.info().recoveries()).isEqualTo(1);
            } finally {
                lock.unlock();
            }
            lock.lock();
            try {
                assertThat(lock.recoveredFromDeadHolder()).as("an ordinary hold again").isFalse();
            } finally {
                lock.unlock();
            }
        }
    }

    @Test
    void lockHeldByKilledProcess_isTakenOverByAWaitingWorker_whoIsTold() throws Exception {
        String name = "test-deadholder-w-" + UUID.randomUUID();
        try (ProcessLock lock = ProcessLock.create(name); SharedInt waiting = SharedInt.create(0)) {
            try (ChildJvm holder = ChildJvm.start("lock-and-hang", name)) {
                holder.awaitLine("LOCKED", Duration.ofSeconds(30));
                CompletableFuture<Boolean> worker = pool.applyAsync((Integer x) -> call(() -> {
                    waiting.incrementAndGet();
                    if (!lock.tryLock(20, TimeUnit.SECONDS)) {
                        throw new IllegalStateException("not acquired");
                    }
                    try {
                        return lock.recoveredFromDeadHolder();
                    } finally {
                        lock.unlock();
                    }
                }), 0);
                // the waiter counts itself, then records itself in a slot: wait for both
                Conditions.await("the worker blocked on the lock", Duration.ofSeconds(30),
                        () -> lock.info().waitingCount() == 1 && lock.info().waiters().size() == 1);
                assertThat(lock.info().waiters()).hasSize(1);
                holder.kill();
                assertThat(worker.get(15, TimeUnit.SECONDS)).isTrue();
            }
        }
    }

    @Test
    void reentrantLock_heldTwiceByAProcessThatHalts_isRecoveredWithOneHold() throws Exception {
        String name = "test-deadholder-r-" + UUID.randomUUID();
        try (ProcessReentrantLock lock = ProcessReentrantLock.create(name)) {
            try (ChildJvm holder = ChildJvm.start("rlock-twice-and-halt-on-input", name)) {
                holder.awaitLine("LOCKED 2", Duration.ofSeconds(30));
                assertThat(lock.info().holdCount()).isEqualTo(2);
                holder.closeInput(); // Runtime.halt while holding it twice
                assertThat(holder.awaitExit(Duration.ofSeconds(30))).isEqualTo(137);
            }
            assertThat(lock.tryLock(10, TimeUnit.SECONDS)).isTrue();
            assertThat(lock.recoveredFromDeadHolder()).isTrue();
            assertThat(lock.getHoldCount()).isEqualTo(1);
            lock.unlock();
            assertThat(lock.isLocked()).isFalse();
        }
    }

    @Test
    void condition_acrossProcesses_signalWakesOne_signalAllTheRest() throws Exception {
        try (ProcessLock lock = ProcessLock.create(); SharedInt woken = SharedInt.create(0)) {
            ProcessCondition condition = lock.newCondition();
            List<CompletableFuture<Boolean>> waiters = new ArrayList<>();
            for (int i = 0; i < WORKERS; i++) {
                waiters.add(pool.applyAsync((Integer x) -> call(() -> {
                    lock.lock();
                    try {
                        boolean signalled = condition.await(30, TimeUnit.SECONDS);
                        woken.incrementAndGet();
                        return signalled;
                    } finally {
                        lock.unlock();
                    }
                }), i));
            }
            Conditions.await("both workers wait", Duration.ofSeconds(30), () -> condition.waitingCount() == WORKERS);
            lock.lock();
            try {
                condition.signal();
            } finally {
                lock.unlock();
            }
            Conditions.await("one woken", Duration.ofSeconds(30), () -> woken.get() == 1);
            lock.lock();
            try {
                assertThat(condition.waitingCount()).isEqualTo(1);
                condition.signalAll();
            } finally {
                lock.unlock();
            }
            for (CompletableFuture<Boolean> waiter : waiters) {
                assertThat(waiter.get(30, TimeUnit.SECONDS)).isTrue();
            }
            assertThat(woken.get()).isEqualTo(2);
        }
    }

    @Test
    void event_setByAChild_releasesTheParent_andTheParentReleasesAChild() throws Exception {
        try (ProcessEvent fromChild = ProcessEvent.create(); ProcessEvent fromParent = ProcessEvent.create();
             SharedInt childWaiting = SharedInt.create(0)) {
            CompletableFuture<Boolean> child = pool.applyAsync((Integer x) -> call(() -> {
                fromChild.set();
                childWaiting.set(1);
                return fromParent.await(30, TimeUnit.SECONDS);
            }), 0);
            assertThat(fromChild.await(Duration.ofSeconds(30))).isTrue();
            Conditions.await("the child waits", Duration.ofSeconds(30), () -> childWaiting.get() == 1);
            fromParent.set();
            assertThat(child.get(30, TimeUnit.SECONDS)).isTrue();
        }
    }

    @Test
    void semaphore_acrossProcesses_timesOutInAWorker_andGuardsACounter() throws Exception {
        try (ProcessSemaphore empty = ProcessSemaphore.create(0)) {
            boolean acquired = pool.applyAsync((Integer ms) -> call(() -> empty.tryAcquire(ms, TimeUnit.MILLISECONDS)), 100)
                    .get(30, TimeUnit.SECONDS);
            assertThat(acquired).isFalse();
        }
        try (ProcessSemaphore mutex = ProcessSemaphore.createBounded(1);
             SharedLong counter = SharedLong.createUnsynchronized(0)) {
            pool.map(i -> call(() -> {
                for (int k = 0; k < 10_000; k++) {
                    mutex.acquire();
                    try {
                        counter.set(counter.get() + 1);
                    } finally {
                        mutex.release();
                    }
                }
                return null;
            }), range(WORKERS), 1);
            assertThat(counter.get()).isEqualTo(WORKERS * 10_000L);
            assertThat(mutex.availablePermits()).isEqualTo(1);
        }
    }

    @Test
    void barrier_acrossProcesses_indexZeroOncePerRound_actionOncePerRound() throws Exception {
        int rounds = 5;
        try (SharedInt actions = SharedInt.create(0); SharedInt zeros = SharedInt.create(0);
             ProcessBarrier barrier = ProcessBarrier.create(WORKERS + 1, actions::incrementAndGet)) {
            List<CompletableFuture<Object>> workers = new ArrayList<>();
            for (int i = 0; i < WORKERS; i++) {
                workers.add(pool.applyAsync((Integer x) -> call(() -> {
                    for (int r = 0; r < rounds; r++) {
                        if (barrier.await(30, TimeUnit.SECONDS) == 0) {
                            zeros.incrementAndGet();
                        }
                    }
                    return null;
                }), i));
            }
            for (int r = 0; r < rounds; r++) {
                if (barrier.await(30, TimeUnit.SECONDS) == 0) {
                    zeros.incrementAndGet();
                }
            }
            for (CompletableFuture<Object> w : workers) {
                w.get(30, TimeUnit.SECONDS);
            }
            assertThat(zeros.get()).isEqualTo(rounds);
            assertThat(actions.get()).isEqualTo(rounds);
        }
    }

    @Test
    void barrier_abortInTheParent_breaksAWaitingWorker_andResetMakesItUsableAgain() throws Exception {
        try (ProcessBarrier barrier = ProcessBarrier.create(2)) {
            CompletableFuture<String> worker = pool.applyAsync((Integer x) -> call(() -> {
                try {
                    barrier.await(30, TimeUnit.SECONDS);
                    return "passed";
                } catch (java.util.concurrent.BrokenBarrierException e) {
                    return "broken";
                }
            }), 0);
            Conditions.await("the worker waits", Duration.ofSeconds(30), () -> barrier.numberWaiting() == 1);
            barrier.abort();
            assertThat(worker.get(30, TimeUnit.SECONDS)).isEqualTo("broken");
            barrier.reset();
            CompletableFuture<Integer> again = pool.applyAsync((Integer x) -> call(() -> barrier.await(30, TimeUnit.SECONDS)), 0);
            int mine = barrier.await(30, TimeUnit.SECONDS);
            assertThat(List.of(mine, again.get(30, TimeUnit.SECONDS))).containsExactlyInAnyOrder(0, 1);
        }
    }
}
