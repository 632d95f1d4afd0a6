package io.multiproc4j.sync;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.multiproc4j.shared.ChildJvm;
import io.multiproc4j.shared.Conditions;
import java.io.ByteArrayOutputStream;
import java.io.ObjectOutputStream;
import java.time.Duration;
import java.util.Base64;
import java.util.UUID;
import java.util.concurrent.BrokenBarrierException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Semaphores, barriers and conditions whose users die: helper JVMs ({@code ShmChild}) SIGKILLed
 * while they hold permits, wait at a barrier, run its action, or wait on a condition. The survivors
 * must get the permits back, learn that the barrier broke and whose death broke it, and never lose
 * a signal to the dead (nor get one sent before they came).
 */
@Timeout(120)
class SyncCrashRecoveryTest {
    private static final Duration START = Duration.ofSeconds(30);

    private static String unique(String what) {
        return "test-" + what + "-" + UUID.randomUUID();
    }

    @Test
    void boundedSemaphore_permitsOfAKilledHolder_comeBackToABlockedAcquirer() throws Exception {
        String name = unique("sem-dead");
        try (ProcessSemaphore semaphore = ProcessSemaphore.create(name, 2, 2)) {
            try (ChildJvm holder = ChildJvm.start("semaphore-acquire-and-hang", name, "2")) {
                holder.awaitLine("ACQUIRED 2", START);
                assertThat(semaphore.availablePermits()).isZero();
                assertThat(semaphore.tryAcquire()).as("both held by a live process").isFalse();
                CompletableFuture<Boolean> waiter = CompletableFuture.supplyAsync(() -> Conditions.call(
                        () -> semaphore.tryAcquire(30, TimeUnit.SECONDS)));
                holder.kill();
                assertThat(waiter.get(30, TimeUnit.SECONDS)).as("a permit of the dead holder").isTrue();
            }
            assertThat(semaphore.recoveredPermits()).isEqualTo(2);
            assertThat(semaphore.availablePermits()).as("the other recovered permit").isEqualTo(1);
            assertThat(semaphore.tryAcquire()).isTrue();
            assertThat(semaphore.tryAcquire()).as("never more than the bound").isFalse();
            semaphore.release();
            semaphore.release();
            assertThat(semaphore.availablePermits()).isEqualTo(2);
            assertThatThrownBy(semaphore::release).isInstanceOf(IllegalStateException.class);
        }
    }

    @Test
    void boundedSemaphore_holderKilledAmidAcquiresAndReleases_keepsExactlyItsBound_repeatedly() throws Exception {
        String name = unique("sem-churn");
        int bound = 3;
        try (ProcessSemaphore semaphore = ProcessSemaphore.create(name, bound, bound)) {
            for (int round = 0; round < 3; round++) {
                try (ChildJvm churner = ChildJvm.start("semaphore-churn", name)) {
                    churner.awaitLine("STARTED", START);
                    // contend with it for a while, so the kill lands amid both processes' calls
                    for (int i = 0; i < 1_000; i++) {
                        assertThat(semaphore.tryAcquire(10, TimeUnit.SECONDS)).isTrue();
                        semaphore.release();
                    }
                    churner.kill();
                }
                for (int i = 0; i < bound; i++) {
                    assertThat(semaphore.tryAcquire(10, TimeUnit.SECONDS)).as("permit %d of %d, round %d", i + 1, bound, round)
                            .isTrue();
                }
                assertThat(semaphore.tryAcquire()).as("exactly the bound, round %d", round).isFalse();
                assertThat(semaphore.availablePermits()).isZero();
                for (int i = 0; i < bound; i++) {
                    semaphore.release();
                }
                assertThat(semaphore.availablePermits()).isEqualTo(bound);
            }
        }
    }

    @Test
    void unboundedSemaphore_signalConsumedByAKilledProcess_isNotGivenBack() throws Exception {
        String name = unique("sem-signal");
        try (ProcessSemaphore signals = ProcessSemaphore.create(name, 1, -1)) {
            try (ChildJvm consumer = ChildJvm.start("semaphore-acquire-and-hang", name, "1")) {
                consumer.awaitLine("ACQUIRED 1", START);
                consumer.kill();
            }
            assertThat(signals.tryAcquire(200, TimeUnit.MILLISECONDS)).as("the signal was consumed").isFalse();
            assertThat(signals.recoveredPermits()).isZero();
        }
    }

    @Test
    void barrier_partyKilledWhileWaiting_breaksItForTheOthers_namingThePid() throws Exception {
        String name = unique("barrier-dead");
        try (ProcessBarrier barrier = ProcessBarrier.create(name, 3, null)) {
            long pid;
            CompletableFuture<Integer> waiter;
            try (ChildJvm party = ChildJvm.start("barrier-await", name)) {
                party.awaitLine("ARRIVING", START);
                pid = party.pid();
                Conditions.await("the child waits at the barrier", START, () -> barrier.numberWaiting() == 1);
                waiter = CompletableFuture.supplyAsync(() -> Conditions.call(() -> barrier.await(60, TimeUnit.SECONDS)));
                Conditions.await("two parties wait", START, () -> barrier.numberWaiting() == 2);
                party.kill();
            }
            assertThatThrownBy(() -> waiter.get(30, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
                    .rootCause().isInstanceOf(BrokenBarrierException.class).hasMessageContaining("pid " + pid);
            assertThat(barrier.isBroken()).isTrue();
            assertThatThrownBy(barrier::await).isInstanceOf(BrokenBarrierException.class)
                    .hasMessageContaining("pid " + pid);
            barrier.reset();
            assertThat(barrier.isBroken()).isFalse();
            assertThat(barrier.numberWaiting()).isZero();
        }
    }

    @Test
    void barrier_lastPartyKilledWhileRunningTheAction_breaksItForTheOthers_namingThePid() throws Exception {
        String name = unique("barrier-action");
        try (ProcessBarrier barrier = ProcessBarrier.create(name, 2, null)) {
            CompletableFuture<Integer> waiter = CompletableFuture.supplyAsync(
                    () -> Conditions.call(() -> barrier.await(60, TimeUnit.SECONDS)));
            Conditions.await("the first party waits", START, () -> barrier.numberWaiting() == 1);
            long pid;
            try (ChildJvm last = ChildJvm.start("barrier-await-hanging-action", name)) {
                last.awaitLine("ACTION", START);
                pid = last.pid();
                last.kill();
            }
            assertThatThrownBy(() -> waiter.get(30, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
                    .rootCause().isInstanceOf(BrokenBarrierException.class).hasMessageContaining("pid " + pid);
            barrier.reset();
            CompletableFuture<Integer> again = CompletableFuture.supplyAsync(
                    () -> Conditions.call(() -> barrier.await(60, TimeUnit.SECONDS)));
            int mine = barrier.await(60, TimeUnit.SECONDS);
            assertThat(mine + again.get(30, TimeUnit.SECONDS)).as("indexes 0 and 1: usable after reset").isEqualTo(1);
        }
    }

    private static String serialized(Object... objects) throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
            out.writeObject(objects);
        }
        return Base64.getEncoder().encodeToString(bytes.toByteArray());
    }

    @Test
    void condition_signalGivenToAKilledWaiter_passesToALiveWaiter() throws Exception {
        try (ProcessLock lock = ProcessLock.create()) {
            ProcessCondition condition = lock.newCondition();
            CompletableFuture<Boolean> live;
            try (ChildJvm dead = ChildJvm.start("condition-await", serialized(lock, condition))) {
                dead.awaitLine("WAITING", START);
                Conditions.await("the child waits", START, () -> condition.waitingCount() == 1);
                // this waiter comes second: signal() chooses the child, the oldest
                live = CompletableFuture.supplyAsync(() -> Conditions.call(() -> {
                    lock.lock();
                    try {
                        return condition.await(60, TimeUnit.SECONDS);
                    } finally {
                        lock.unlock();
                    }
                }));
                Conditions.await("both wait", START, () -> condition.waitingCount() == 2);
                dead.kill();
            }
            lock.lock();
            try {
                condition.signal();
            } finally {
                lock.unlock();
            }
            assertThat(live.get(30, TimeUnit.SECONDS)).as("the live waiter got the dead one's signal").isTrue();
        }
    }

    @Test
    void condition_recordsOfAKilledProcessFillingTheTable_areFreedForNewWaiters() throws Exception {
        int dead = io.multiproc4j.internal.shm.LockLayout.CONDITION_WAITERS;
        try (ProcessLock lock = ProcessLock.create()) {
            ProcessCondition condition = lock.newCondition();
            try (ChildJvm child = ChildJvm.start("condition-await-many", serialized(lock, condition), Integer.toString(dead))) {
                child.awaitLine("STARTED", START);
                Conditions.await("every child thread waits", START, () -> condition.waitingCount() == dead);
                child.kill();
            }
            // A new waiter needs a record: the dead ones are freed for it, so it is signalled
            // exactly like any other (not left among the unrecorded, beside 64 dead records).
            CompletableFuture<Boolean> live = CompletableFuture.supplyAsync(() -> Conditions.call(() -> {
                lock.lock();
                try {
                    return condition.await(60, TimeUnit.SECONDS);
                } finally {
                    lock.unlock();
                }
            }));
            Conditions.await("the new waiter waits", START, () -> condition.waitingCount() == 1);
            lock.lock();
            try {
                condition.signal();
            } finally {
                lock.unlock();
            }
            assertThat(live.get(30, TimeUnit.SECONDS)).isTrue();
        }
    }

    @Test
    void condition_signalGivenToAKilledWaiter_isNotTakenByAWaiterWhoCameAfter() throws Exception {
        try (ProcessLock lock = ProcessLock.create()) {
            ProcessCondition condition = lock.newCondition();
            try (ChildJvm dead = ChildJvm.start("condition-await", serialized(lock, condition))) {
                dead.awaitLine("WAITING", START);
                Conditions.await("the child waits", START, () -> condition.waitingCount() == 1);
                dead.kill();
            }
            assertThat(condition.waitingCount()).as("a dead waiter is not counted").isZero();
            lock.lock();
            try {
                condition.signal(); // only the dead child waited: it wakes nobody alive
                // A newcomer must not return early with that signal (nor with a stale wakeup):
                // a few slices, so that it looks at the dead waiter's record more than once.
                assertThat(condition.await(300, TimeUnit.MILLISECONDS)).as("signalled by a signal sent before it came")
                        .isFalse();
            } finally {
                lock.unlock();
            }
        }
    }
}
