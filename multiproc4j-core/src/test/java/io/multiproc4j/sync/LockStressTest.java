package io.multiproc4j.sync;

import static io.multiproc4j.shared.Conditions.call;
import static org.assertj.core.api.Assertions.assertThat;

import io.multiproc4j.Pool;
import io.multiproc4j.shared.ChildJvm;
import io.multiproc4j.shared.SharedLong;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * Stress of the lock word, apart from the unit tests (minutes, not seconds): 2 worker JVMs × 3
 * threads take one {@link ProcessLock} with every acquisition method in random order, while a
 * helper JVM repeatedly takes the lock and is SIGKILLed holding it. Inside the critical section
 * each holder claims an owner cell with a compare-and-set (which fails if two ever hold the lock
 * at once) and counts; after a takeover ({@code recoveredFromDeadHolder()}) it repairs the cell the
 * dead holder left marked.
 *
 * <p>Run: {@code ./mvnw -B -pl multiproc4j-core -am verify -Dtest=LockStressTest
 * -Dsurefire.failIfNoSpecifiedTests=false -Dmp4j.stress=true [-Dmp4j.stress.seconds=60]}
 */
@EnabledIfSystemProperty(named = "mp4j.stress", matches = "true")
class LockStressTest {
    private static final int THREADS = 3;

    @Test
    void mutualExclusion_andDeadHolderRecovery_underMixedAcquisitions() throws Exception {
        long seconds = Long.getLong("mp4j.stress.seconds", 30);
        String lockName = "stress-lock-" + UUID.randomUUID();
        String ownerName = "stress-owner-" + UUID.randomUUID();
        try (Pool pool = Pool.processes(2);
             ProcessLock lock = ProcessLock.create(lockName);
             SharedLong owner = SharedLong.create(ownerName, 0);
             SharedLong counter = SharedLong.createUnsynchronized(0);
             SharedLong stop = SharedLong.create(0);
             SharedLong violations = SharedLong.create(0)) {
            var workers = pool.mapAsync(w -> call(() -> {
                AtomicLong acquisitions = new AtomicLong();
                AtomicLong recoveries = new AtomicLong();
                List<Thread> threads = new ArrayList<>();
                for (int t = 0; t < THREADS; t++) {
                    long token = w * 100L + t + 1;
                    threads.add(Thread.ofPlatform().start(() -> {
                        ThreadLocalRandom random = ThreadLocalRandom.current();
                        while (stop.get() == 0) {
                            boolean held;
                            try {
                                held = switch (random.nextInt(4)) {
                                    case 0 -> { lock.lock(); yield true; }
                                    case 1 -> lock.tryLock();
                                    case 2 -> lock.tryLock(random.nextInt(1, 200), TimeUnit.MICROSECONDS);
                                    default -> { lock.lockInterruptibly(); yield true; }
                                };
                            } catch (InterruptedException e) {
                                return;
                            }
                            if (!held) {
                                continue;
                            }
                            try {
                                if (lock.recoveredFromDeadHolder()) {
                                    recoveries.incrementAndGet();
                                    owner.compareAndSet(-1, 0); // the dead holder's mark
                                }
                                if (!owner.compareAndSet(0, token)) {
                                    violations.incrementAndGet();
                                }
                                counter.set(counter.get() + 1);
                                acquisitions.incrementAndGet();
                                if (!owner.compareAndSet(token, 0)) {
                                    violations.incrementAndGet();
                                }
                            } finally {
                                lock.unlock();
                            }
                        }
                    }));
                }
                for (Thread thread : threads) {
                    thread.join();
                }
                return new long[] {acquisitions.get(), recoveries.get()};
            }), List.of(0, 1), 1);

            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
            int kills = 0;
            while (System.nanoTime() < deadline) {
                try (ChildJvm holder = ChildJvm.start("lock-mark-and-hang", lockName, ownerName)) {
                    holder.awaitLine("LOCKED", Duration.ofSeconds(60));
                    holder.kill();
                    kills++;
                }
            }
            stop.set(1);
            List<long[]> results = workers.get(2, TimeUnit.MINUTES);
            long acquisitions = results.stream().mapToLong(r -> r[0]).sum();
            long recoveries = results.stream().mapToLong(r -> r[1]).sum();
            System.out.printf("stress: %d s, %d acquisitions, %d holders killed, %d recoveries seen by workers%n",
                    seconds, acquisitions, kills, recoveries);
            assertThat(violations.get()).as("two holders at once").isZero();
            // each killed holder took the lock once (and counted nothing)
            assertThat(counter.get()).isEqualTo(acquisitions);
            assertThat(recoveries).as("each kill seen by exactly one worker, or by the next helper")
                    .isBetween(0L, (long) kills).isPositive();
            assertThat(lock.isLocked()).isFalse();
        }
    }
}
