package io.multiproc4j.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import io.multiproc4j.Pool;
import io.multiproc4j.WorkerOutput;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/**
 * A crash loop: 10,000-chunk maps with {@code retries(3)} while a killer thread SIGKILLs a random
 * worker about every 50 ms. Every map must return every result exactly once and in order; after the
 * pool closes, this JVM's descriptors, threads, {@code /dev/shm} segments, socket directories and
 * live heap are back at their baseline ({@link LeakCheck}).
 *
 * <p>Runs for {@code mp4j.soak.seconds} (30 in CI; the {@code stress} profile gives 600), repeating
 * maps until the time is up; at least one map completes whatever the machine's speed.
 */
@Deadline(seconds = 1500)
@org.junit.jupiter.api.Timeout(1500)  // the stress profile's 10 minutes; CI's run bounds itself (see below)
class CrashLoopSoakTest {
    private static final int CHUNKS = 10_000;
    private static final long KILL_EVERY_NANOS = Duration.ofMillis(50).toNanos();

    /**
     * Only workers that have run a task are killed (each marks its pid in a directory the first
     * time): the pool counts a worker that dies before it is ready as a failure to start, and as many
     * of those in a row as it has workers mean that workers cannot start at all
     * (BrokenPoolException), which is right for a real start failure and not what this test is about.
     */
    static final class Marks {
        private static volatile boolean marked;

        static int mark(String directory, int x) {
            if (!marked) {
                marked = true;
                try {
                    java.nio.file.Files.createFile(java.nio.file.Path.of(directory, Long.toString(ProcessHandle.current().pid())));
                } catch (java.io.IOException e) {
                    // marked already
                }
            }
            return x * 3 + 1;
        }
    }

    private static boolean ranATask(java.nio.file.Path marks, ProcessHandle worker) {
        return java.nio.file.Files.exists(marks.resolve(Long.toString(worker.pid())));
    }

    @Test
    void mapsUnderRandomSigkills_returnEveryResultOnceInOrder_andLeaveNothingBehind(
            @org.junit.jupiter.api.io.TempDir java.nio.file.Path marks) throws Exception {
        String markDirectory = marks.toString();
        long seconds = Long.getLong("mp4j.soak.seconds", 30);
        List<Integer> inputs = IntStream.range(0, CHUNKS).boxed().toList();
        List<Integer> expected = inputs.stream().map(x -> x * 3 + 1).toList();
        // warm up what the JDK initializes once (pool classes, serialization caches) before the baseline
        try (Pool warm = Pool.processes(1)) {
            assertThat(warm.map(x -> x * 3 + 1, inputs.subList(0, 100), 1)).isEqualTo(expected.subList(0, 100));
        }
        LeakCheck leaks = LeakCheck.baseline();

        var stop = new AtomicBoolean();
        var kills = new AtomicInteger();
        Thread killer = Thread.ofPlatform().daemon().name("soak-killer").start(() -> {
            while (!stop.get()) {
                // pacing, not synchronization: one kill per period, whatever the pool is doing
                LockSupport.parkNanos(KILL_EVERY_NANOS);
                List<ProcessHandle> workers = ProcessHandle.current().children()
                        .filter(worker -> ranATask(marks, worker))
                        .toList();
                // one working worker is always spared, so the maps make progress however slowly
                // this machine restarts JVMs (a kill every 50 ms outpaces a JVM start on 2 busy cores)
                if (workers.size() >= 2) {
                    ProcessHandle victim = workers.get(ThreadLocalRandom.current().nextInt(workers.size()));
                    leaks.alsoOwnedBy(victim.pid());
                    if (victim.destroyForcibly()) {  // SIGKILL
                        kills.incrementAndGet();
                    }
                }
            }
        });
        int maps = 0;
        long deadline = System.nanoTime() + Duration.ofSeconds(seconds).toNanos();
        try (Pool pool = Pool.builder().processes(3).retries(3).workerOutput(WorkerOutput.DISCARD).build()) {
            do {
                var running = pool.mapAsync((Integer x) -> Marks.mark(markDirectory, x), inputs, 1);
                List<Integer> results;
                try {
                    // a bound of our own, well inside the test's timeout: a hang fails with the facts
                    results = running.get(seconds + 120, java.util.concurrent.TimeUnit.SECONDS);
                } catch (java.util.concurrent.TimeoutException e) {
                    throw new AssertionError("map " + maps + " did not finish in " + (seconds + 120) + " s; "
                            + kills.get() + " kills so far; threads: " + ProcessResources.threadNames(), e);
                }
                assertThat(results).as("map %d under %d kills so far", maps, kills.get()).isEqualTo(expected);
                maps++;
            } while (System.nanoTime() - deadline < 0);
        } finally {
            stop.set(true);
            killer.join(Duration.ofSeconds(10));
        }
        System.out.printf("crash loop: %d maps of %,d chunks in %d s, %d workers SIGKILLed%n", maps, CHUNKS, seconds,
                kills.get());
        assertThat(kills.get()).as("workers were killed while maps ran").isPositive();
        Conditions.await("every worker has exited", Duration.ofSeconds(60),
                () -> ProcessHandle.current().children().findAny().isEmpty());
        leaks.assertBack(Duration.ofSeconds(60));
    }
}
