package io.multiproc4j.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.multiproc4j.Pool;
import io.multiproc4j.PoolStats;
import io.multiproc4j.SerializableFunction;
import io.multiproc4j.WorkerCrashedException;
import io.multiproc4j.WorkerOutput;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The shared-memory data path between a pool and its workers (the request and result rings,
 * {@code -Dmultiproc4j.transport=ring}; this class sets it for its pools), on real worker JVMs: a
 * result stored in the ring counts even when its worker is SIGKILLed at once; results and inputs far
 * larger than a ring stream through it, in order; an interrupted caller writing a batch harms
 * nothing; no segment of this JVM is left in /dev/shm after close or a crash; the default and
 * {@code -Dmultiproc4j.transport=socket} run the same pool over the socket.
 */
@Deadline(seconds = 600)
class WorkerRingTest {
    private static final Duration WAIT = Duration.ofMinutes(3);
    private static String transportBefore;

    @BeforeAll
    static void poolsOfThisClassUseRings() {
        transportBefore = System.getProperty("multiproc4j.transport");
        System.setProperty("multiproc4j.transport", "ring");
    }

    @AfterAll
    static void restoreTheTransport() {
        if (transportBefore == null) {
            System.clearProperty("multiproc4j.transport");
        } else {
            System.setProperty("multiproc4j.transport", transportBefore);
        }
    }
    /** Larger than one ring (2 MiB): such a record goes as fragments, the ring wrapping under it. */
    private static final int BIG = 5 << 20;

    @AfterEach
    void noSegmentOfThisJvmIsLeft() {
        Conditions.await("this JVM's ring segments to be gone from /dev/shm", WAIT,
                () -> segmentsOf(ProcessHandle.current().pid()).isEmpty());
    }

    /** @return the /dev/shm files of the worker rings of the pool JVM {@code pid} */
    private static List<Path> segmentsOf(long pid) {
        try (Stream<Path> files = Files.list(Path.of("/dev/shm"))) {
            String prefix = "mp4j-pool-" + pid + "-";
            String bell = "mp4jbell-pool-" + pid + "-"; // the worker's bell FIFO
            return files.filter(f -> f.getFileName().toString().startsWith(prefix)
                    || f.getFileName().toString().startsWith(bell)).toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Appends a line to a file shared by the test and its workers (one write: lines never interleave). */
    private static void note(String file, String line) {
        try {
            Files.writeString(Path.of(file), line + "\n", StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static List<String> lines(String file) throws IOException {
        return Files.exists(Path.of(file)) ? Files.readAllLines(Path.of(file)) : List.of();
    }

    @Test
    void resultsStoredJustBeforeTheWorkerIsSigkilled_areDelivered_andNoTaskRunsTwice(@TempDir Path dir)
            throws Exception {
        String runs = dir.resolve("runs").toString(); // a String: the task is serialized
        SerializableFunction<Integer, Integer> counted = x -> {
            note(runs, Integer.toString(x));
            return x * 2;
        };
        SerializableFunction<Integer, Integer> sigkillSelf = x -> {
            try { // a real SIGKILL, from outside the JVM: nothing of this JVM runs after it
                new ProcessBuilder("kill", "-9", Long.toString(ProcessHandle.current().pid())).start().waitFor();
                Thread.sleep(Duration.ofMinutes(5)); // the signal lands meanwhile
            } catch (IOException | InterruptedException e) {
                throw new IllegalStateException(e);
            }
            return -1;
        };
        // retries(0): a stored result blamed for the death, or lost with it, would fail its task
        try (Pool pool = Pool.builder().processes(1).retries(0).workerOutput(WorkerOutput.DISCARD).build()) {
            assertThat(pool.applyAsync(counted, -1).get(WAIT.toSeconds(), TimeUnit.SECONDS)).isEqualTo(-2); // warm
            List<CompletableFuture<Integer>> stored = new ArrayList<>();
            for (int i = 0; i < 200; i++) {
                stored.add(pool.applyAsync(counted, i));
            }
            CompletableFuture<Integer> killer = pool.applyAsync(sigkillSelf, 0);
            for (int i = 0; i < stored.size(); i++) {
                assertThat(stored.get(i).get(WAIT.toSeconds(), TimeUnit.SECONDS)).isEqualTo(2 * i);
            }
            assertThatThrownBy(() -> killer.get(WAIT.toSeconds(), TimeUnit.SECONDS))
                    .isInstanceOf(ExecutionException.class).hasCauseInstanceOf(WorkerCrashedException.class);
            assertThat(pool.applyAsync(counted, 1000).get(WAIT.toSeconds(), TimeUnit.SECONDS)).isEqualTo(2000);
            PoolStats stats = pool.stats();
            assertThat(stats.workersExited()).containsExactlyEntriesOf(java.util.Map.of("CRASHED", 1L));
        }
        List<String> ran = lines(runs);
        assertThat(ran).as("every task ran exactly once").hasSize(202).doesNotHaveDuplicates();
    }

    @Test
    void resultsAndInputsMuchLargerThanARing_andManySmallOnes_arriveWhole_andInOrder() throws Exception {
        try (Pool pool = Pool.builder().processes(2).workerOutput(WorkerOutput.DISCARD).build()) {
            // results of 5 MiB: each goes through a 2 MiB ring in fragments
            List<byte[]> big = pool.map((Integer x) -> pattern(x, BIG), List.of(0, 1, 2, 3, 4, 5), 1);
            for (int x = 0; x < big.size(); x++) {
                assertThat(big.get(x)).as("result %d", x).isEqualTo(pattern(x, BIG));
            }
            // inputs of 5 MiB: the pool's sender streams them into the request ring as the worker frees it
            List<byte[]> inputs = IntStream.range(0, 6).mapToObj(x -> pattern(x + 10, BIG)).toList();
            List<Long> sums = pool.map((byte[] b) -> checksum(b), inputs, 1);
            assertThat(sums).containsExactlyElementsOf(inputs.stream().map(WorkerRingTest::checksum).toList());
            // many small records wrap both rings many times
            List<Integer> range = IntStream.range(0, 30_000).boxed().toList();
            assertThat(pool.map((Integer x) -> x + 1, range, 1))
                    .containsExactlyElementsOf(range.stream().map(x -> x + 1).toList());
            // big and small interleaved on the same rings, in one map
            List<Integer> mixed = IntStream.range(0, 40).boxed().toList();
            List<Object> out = pool.map((Integer x) -> x % 8 == 0 ? pattern(x, BIG / 2 + x) : x, mixed, 1);
            for (int x : mixed) {
                if (x % 8 == 0) {
                    assertThat((byte[]) out.get(x)).isEqualTo(pattern(x, BIG / 2 + x));
                } else {
                    assertThat(out.get(x)).isEqualTo(x);
                }
            }
            assertThat(pool.stats().workersExitedTotal()).isZero();
        }
    }

    static byte[] pattern(int seed, int length) {
        byte[] bytes = new byte[length];
        for (int i = 0; i < length; i++) {
            bytes[i] = (byte) (i * 31 + seed * 7 + (i >>> 13));
        }
        return bytes;
    }

    static long checksum(byte[] bytes) {
        long sum = bytes.length;
        for (byte b : bytes) {
            sum = sum * 1_000_003 + b;
        }
        return sum;
    }

    @Test
    void callersInterruptedWhileTheirBatchesAreWritten_getTheirResults_andNoWorkerDies() throws Exception {
        try (Pool pool = Pool.builder().processes(2).workerOutput(WorkerOutput.DISCARD).build()) {
            assertThat(pool.applyAsync((Integer x) -> x, 1).get(WAIT.toSeconds(), TimeUnit.SECONDS)).isEqualTo(1);
            int threads = 4;
            int calls = 300;
            var failure = new AtomicReference<Throwable>();
            var done = new CountDownLatch(threads);
            var submitted = new CountDownLatch(threads);
            var interrupterStopped = new CountDownLatch(1);
            List<Thread> callers = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int id = t;
                callers.add(Thread.ofPlatform().start(() -> {
                    try {
                        List<CompletableFuture<Integer>> futures = new ArrayList<>();
                        for (int i = 0; i < calls; i++) {
                            // every write happens with the flag set; big inputs (one in 50) fill the ring
                            Thread.currentThread().interrupt();
                            byte[] input = i % 50 == 0 ? new byte[3 << 20] : new byte[id + i % 7];
                            futures.add(pool.applyAsync((byte[] b) -> b.length, input));
                        }
                        submitted.countDown();
                        awaitIgnoringInterrupts(interrupterStopped);
                        Thread.interrupted();
                        for (int i = 0; i < calls; i++) {
                            int expected = i % 50 == 0 ? 3 << 20 : id + i % 7;
                            assertThat(futures.get(i).get(WAIT.toSeconds(), TimeUnit.SECONDS)).isEqualTo(expected);
                        }
                    } catch (Throwable e) {
                        failure.compareAndSet(null, e);
                    } finally {
                        if (failure.get() != null) {
                            submitted.countDown(); // the interrupter stops
                        }
                        done.countDown();
                    }
                }));
            }
            // and a thread that interrupts the callers while they write
            Thread interrupter = Thread.ofPlatform().start(() -> {
                while (submitted.getCount() > 0) {
                    callers.forEach(Thread::interrupt);
                    Thread.yield();
                }
                interrupterStopped.countDown();
            });
            assertThat(done.await(WAIT.toSeconds(), TimeUnit.SECONDS)).as("the callers finished").isTrue();
            interrupter.join(WAIT.toMillis());
            assertThat(failure.get()).as("what a caller saw").isNull();
            PoolStats stats = pool.stats();
            assertThat(stats.workersExitedTotal()).as("workers exited: " + stats.workersExited()).isZero();
            assertThat(stats.workersStarted()).isEqualTo(2);
        }
    }

    /**
     * The worker's main thread asleep on its bell (a FIFO: no futex) is woken by a caller whose
     * interrupt flag is set: the bell is a java.io write, which no interrupt closes, so the worker
     * lives and the caller keeps its flag. Asleep is checked in /proc: a thread of the worker in
     * read(2) on its FIFO (where /proc does not say, the calls still run with the flag set).
     */
    @Test
    void aCallerWithItsInterruptFlagSet_wakesAWorkerAsleepOnItsBell_andTheWorkerSurvives() throws Exception {
        try (Pool pool = Pool.builder().processes(1).workerOutput(WorkerOutput.DISCARD).build()) {
            long pid = pool.applyAsync((Integer x) -> ProcessHandle.current().pid(), 0).get(WAIT.toSeconds(), TimeUnit.SECONDS);
            for (int i = 0; i < 20; i++) {
                Conditions.await("the worker's main thread asleep on its bell FIFO", WAIT,
                        () -> asleepOnAPipe(pid) != Boolean.FALSE);
                Thread.currentThread().interrupt();
                CompletableFuture<Integer> result = pool.applyAsync((Integer x) -> x + 1, i);
                assertThat(Thread.interrupted()).as("the caller's flag is kept").isTrue();
                assertThat(result.get(WAIT.toSeconds(), TimeUnit.SECONDS)).isEqualTo(i + 1);
            }
            assertThat(pool.applyAsync((Integer x) -> ProcessHandle.current().pid(), 0).get(WAIT.toSeconds(), TimeUnit.SECONDS))
                    .as("the same worker").isEqualTo(pid);
            PoolStats stats = pool.stats();
            assertThat(stats.workersExitedTotal()).as("workers exited: " + stats.workersExited()).isZero();
            assertThat(stats.workersStarted()).isEqualTo(1);
        }
    }

    /** @return whether a thread of {@code pid} is in read(2) on its bell FIFO; null where /proc does not say */
    private static Boolean asleepOnAPipe(long pid) {
        try (Stream<Path> tasks = Files.list(Path.of("/proc/" + pid + "/task"))) {
            for (Path task : tasks.toList()) {
                String[] call = Files.readString(task.resolve("syscall")).trim().split(" ");
                if (call.length > 1 && call[0].equals("0")) { // read(fd, ...)
                    long fd = Long.decode(call[1]);
                    Path link = Path.of("/proc/" + pid + "/fd/" + fd);
                    if (Files.readSymbolicLink(link).toString().contains("mp4jbell-")) { // the FIFO (unlinked)
                        return true;
                    }
                }
            }
            return false;
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    private static void awaitIgnoringInterrupts(CountDownLatch latch) {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (latch.getCount() > 0) {
            try {
                if (!latch.await(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) {
                    throw new AssertionError("timed out waiting for the interrupter to stop");
                }
            } catch (InterruptedException e) {
                // the interrupter is still at work
            }
        }
    }

    @Test
    void noSegmentIsLeft_whenThePoolJvmIsSigkilled() throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process owner = new ProcessBuilder(java, "-Dmultiproc4j.transport=ring", "-cp", System.getProperty("java.class.path"),
                PoolOwnerMain.class.getName(), "wait").redirectError(ProcessBuilder.Redirect.INHERIT).start();
        List<Long> workers = List.of();
        try {
            var reader = new BufferedReader(new InputStreamReader(owner.getInputStream(), StandardCharsets.UTF_8));
            String line;
            do {
                line = reader.readLine();
                assertThat(line).as("the owner's output before it printed its workers").isNotNull();
            } while (!line.startsWith("WORKERS "));
            String[] parts = line.split(" ");
            workers = List.of(Long.parseLong(parts[1]), Long.parseLong(parts[2]));
            // the workers have run tasks: both have mapped their rings, and the files are gone already
            assertThat(segmentsOf(owner.pid())).isEmpty();
        } finally {
            owner.destroyForcibly(); // SIGKILL: nothing of the owner's runs after it
            owner.waitFor(60, TimeUnit.SECONDS);
        }
        List<Long> pids = workers;
        try {
            Conditions.await("the dead owner's workers to exit", WAIT, () -> pids.stream().noneMatch(Conditions::alive));
            assertThat(segmentsOf(owner.pid())).isEmpty();
        } finally {
            pids.forEach(pid -> ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly));
        }
    }

    /** @return whether this worker JVM maps a pool's ring segment (its file unlinked: "(deleted)") */
    private static boolean mapsARing() {
        try {
            return Files.readString(Path.of("/proc/self/maps")).contains("/dev/shm/mp4j-pool-");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Test
    void theTransportProperty_ringMapsRings_socketAndTheDefaultRunWorkersWithout_andABadValueIsRefused() throws Exception {
        String before = System.getProperty("multiproc4j.transport");
        try {
            try (Pool pool = Pool.builder().processes(1).workerOutput(WorkerOutput.DISCARD).build()) {
                assertThat(pool.applyAsync((Integer x) -> mapsARing(), 0).get(WAIT.toSeconds(), TimeUnit.SECONDS))
                        .as("a worker of -Dmultiproc4j.transport=ring maps its rings").isTrue();
            }
            System.clearProperty("multiproc4j.transport");
            try (Pool pool = Pool.builder().processes(1).workerOutput(WorkerOutput.DISCARD).build()) {
                assertThat(pool.applyAsync((Integer x) -> mapsARing(), 0).get(WAIT.toSeconds(), TimeUnit.SECONDS))
                        .as("a worker of the default transport maps no ring").isFalse();
            }
            System.setProperty("multiproc4j.transport", "socket");
            try (Pool pool = Pool.builder().processes(1).workerOutput(WorkerOutput.DISCARD).build()) {
                assertThat(pool.applyAsync((Integer x) -> mapsARing(), 0).get(WAIT.toSeconds(), TimeUnit.SECONDS))
                        .as("a worker of -Dmultiproc4j.transport=socket maps no ring").isFalse();
                List<Integer> range = IntStream.range(0, 2_000).boxed().toList();
                assertThat(pool.map((Integer x) -> x * 3, range, 1))
                        .containsExactlyElementsOf(range.stream().map(x -> x * 3).toList());
                byte[] big = pattern(3, BIG);
                assertThat(pool.applyAsync((byte[] b) -> checksum(b), big).get(WAIT.toSeconds(), TimeUnit.SECONDS))
                        .isEqualTo(checksum(big));
            }
            System.setProperty("multiproc4j.transport", "shm");
            assertThatThrownBy(() -> Pool.processes(1).close())
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("multiproc4j.transport=shm").hasMessageContaining("ring").hasMessageContaining("socket");
        } finally {
            if (before == null) {
                System.clearProperty("multiproc4j.transport");
            } else {
                System.setProperty("multiproc4j.transport", before);
            }
        }
    }
}
