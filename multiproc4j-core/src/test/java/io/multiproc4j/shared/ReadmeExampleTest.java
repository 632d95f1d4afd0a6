package io.multiproc4j.shared;

import static org.assertj.core.api.Assertions.assertThat;

import io.multiproc4j.Pool;
import io.multiproc4j.sync.ProcessBarrier;
import io.multiproc4j.sync.ProcessCondition;
import io.multiproc4j.sync.ProcessEvent;
import io.multiproc4j.sync.ProcessLock;
import io.multiproc4j.sync.ProcessLockInfo;
import io.multiproc4j.sync.ProcessReentrantLock;
import io.multiproc4j.sync.ProcessSemaphore;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** The README's shared-memory example, compiled and run (keep the two in step). */
class ReadmeExampleTest {
    private static List<Integer> range(int from, int to) {
        return IntStream.range(from, to).boxed().toList();
    }

    @Test
    void readmeExample_runsAsDocumented() {
        try (Pool pool = Pool.processes(2);
             SharedLong counter = SharedLong.create(0);
             SharedDoubleArray data = SharedDoubleArray.create(1_000)) {
            pool.map(i -> counter.incrementAndGet(), range(0, 10_000));
            pool.map(i -> { data.set(i, i * 0.5); return null; }, range(0, 1_000));
            counter.getAndUpdate(x -> x * 2);
            assertThat(counter.get()).isEqualTo(20_000);
            assertThat(data.get(999)).isEqualTo(499.5);

            try (ProcessLock lock = ProcessLock.create();
                 SharedLong plain = SharedLong.createUnsynchronized(0)) {
                pool.map(i -> {
                    lock.lock();
                    try {
                        if (lock.recoveredFromDeadHolder()) {
                            throw new IllegalStateException("no holder died in this example");
                        }
                        plain.set(plain.get() + 1);
                    } finally {
                        lock.unlock();
                    }
                    return null;
                }, range(0, 10_000));
                assertThat(plain.get()).isEqualTo(10_000);
                ProcessCondition ready = lock.newCondition();
                assertThat(ready.waitingCount()).isZero();
                assertThat(lock.info().holder()).isNull();
                assertThat(ProcessLockInfo.all()).extracting(ProcessLockInfo::name).contains(lock.name());
            }
        }
        try (ProcessEvent stop = ProcessEvent.create();
             ProcessSemaphore slots = ProcessSemaphore.createBounded(3);
             ProcessBarrier barrier = ProcessBarrier.create(4, () -> System.out.println("tripped"));
             ProcessReentrantLock rlock = ProcessReentrantLock.create();
             SharedMemory raw = SharedMemory.create("readme-frames-" + ProcessHandle.current().pid(), 1 << 20)) {
            assertThat(stop.isSet()).isFalse();
            assertThat(slots.bound()).isEqualTo(3);
            assertThat(barrier.parties()).isEqualTo(4);
            assertThat(rlock.getHoldCount()).isZero();
            assertThat(raw.size()).isEqualTo(1 << 20);
        }
    }
}
