package io.multiproc4j.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.multiproc4j.TaskFailedException;
import io.multiproc4j.testkit.Conditions;
import io.multiproc4j.testkit.Deadline;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Members lost, joining and intruding, on one shared loopback cluster: real member JVMs, real
 * SIGKILLs. Tasks that must still be running when something happens wait for a marker file the
 * test writes, so nothing depends on timing.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Deadline(seconds = 240)
class ClusterFaultTest {
    private LocalCluster cluster;
    private Path dir;

    @BeforeAll
    void start() throws Exception {
        dir = Files.createTempDirectory("multiproc4j-cluster-test-");
        cluster = LocalCluster.start(2, 2);
    }

    @AfterAll
    void stop() throws Exception {
        if (cluster != null) {
            SharedCluster.closeAndCheck(cluster);
        }
        try (var files = Files.list(dir)) {
            for (Path p : files.toList()) {
                Files.deleteIfExists(p);
            }
        }
        Files.deleteIfExists(dir);
    }

    /** A pool that uses live members only: a member killed by an earlier test may linger in the member list a moment. */
    private ClusterPool connect(ClusterConfig config) {
        ClusterPool pool = ClusterPool.connect(config);
        Conditions.await("the pool to use live members only", Duration.ofSeconds(60), () -> pool.members().stream()
                .allMatch(m -> cluster.members().stream().anyMatch(l -> l.address().equals(m.address()) && l.process().isAlive())));
        return pool;
    }

    private static List<Integer> range(int n) {
        return IntStream.range(0, n).boxed().toList();
    }

    /**
     * Returns x * 2; from {@code from} on, only once {@code marker} exists. A task that has to wait
     * says so first, with a note {@code <marker>-waiting-<member pid>-<x>}, so the test sees which
     * member's workers are taken by waiting tasks.
     */
    private static Integer doubledOnceMarked(int x, int from, String marker) {
        if (x >= from) {
            Path go = Path.of(marker);
            if (!Files.exists(go)) {
                try {
                    Files.writeString(Path.of(marker + "-waiting-" + ProcessHandle.current().pid() + "-" + x), "");
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }
            while (!Files.exists(go)) {
                java.util.concurrent.locks.LockSupport.parkNanos(1_000_000);
            }
        }
        return x * 2;
    }

    /** @return member pid → how many tasks of the call with this marker began waiting there */
    private Map<Long, Long> waitingByPid(Path marker) {
        String prefix = marker.getFileName() + "-waiting-";
        try (var files = Files.list(dir)) {
            return files.map(f -> f.getFileName().toString()).filter(n -> n.startsWith(prefix))
                    .collect(Collectors.groupingBy(n -> Long.parseLong(n.substring(prefix.length(), n.lastIndexOf('-'))),
                            TreeMap::new, Collectors.counting()));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Waits until each worker of every member the pool uses runs a task that waits for {@code marker}.
     * Then nothing of the call can end before the marker is written: every member holds chunks
     * that must run again elsewhere if it is lost. The dispatcher always gets there (a free worker
     * is sent more chunks while any are queued), whereas a count of chunks done may never reach
     * the waiting ones' index: a member runs the chunks it holds in no guaranteed order, and one
     * queued behind waiting ones waits for the marker too.
     */
    private void awaitEveryWorkerWaiting(ClusterPool pool, Path marker, Duration timeout) {
        await("every worker of every member to run a waiting task", timeout, () -> {
            Map<Long, Long> waiting = waitingByPid(marker);
            List<ClusterPool.MemberState> members = pool.members();
            return members.size() >= 2 && members.stream().allMatch(m -> waiting.getOrDefault(m.pid(), 0L) >= m.capacity());
        }, () -> describe(pool, marker));
    }

    /** {@link Conditions#await}, whose failure also says what {@code state} tells at the deadline. */
    private static void await(String what, Duration timeout, BooleanSupplier condition, Supplier<String> state) {
        try {
            Conditions.await(what, timeout, condition);
        } catch (AssertionError e) {
            throw new AssertionError(e.getMessage() + "; " + state.get(), e);
        }
    }

    /** What the pool and the cluster look like, for a failure message. */
    private String describe(ClusterPool pool, Path marker) {
        return "the pool's members " + pool.members() + ", tasks waiting per member pid " + waitingByPid(marker)
                + ", member losses " + pool.memberLosses() + ", live member JVMs " + cluster.members().stream()
                .filter(m -> m.process().isAlive()).map(m -> m.address() + " pid " + m.pid()).toList();
    }

    @Test
    void memberSigkilledDuringA10000ChunkMap_mapCompletesOrderedExactlyOnce_andRecoveryIsReported() throws Exception {
        Path marker = dir.resolve("go-" + System.nanoTime());
        try (ClusterPool pool = connect(cluster.config().retries(2))) {
            awaitTwoMembers(pool);
            String go = marker.toString();
            CompletableFuture<List<Integer>> call = pool.mapAsync((Integer x) -> doubledOnceMarked(x, 3_000, go),
                    range(10_000), 1);
            try {
                // Chunks below 3000 ran (all of them but those queued behind waiting ones, which run after the
                // kill), and every worker of the victim runs a waiting chunk: those must run again elsewhere.
                awaitEveryWorkerWaiting(pool, marker, Duration.ofSeconds(120));
                ClusterPool.MemberState before = pool.members().get(0);
                System.out.printf("before the kill: %s%n", describe(pool, marker));
                LocalCluster.LocalMember victim = cluster.members().stream()
                        .filter(m -> m.address().equals(before.address())).findFirst().orElseThrow();
                long killedAt = System.nanoTime();
                victim.process().destroyForcibly(); // SIGKILL
                // gone before the marker is there, so that none of its waiting chunks can end on it
                assertThat(victim.process().waitFor(30, TimeUnit.SECONDS)).as("the killed member exited").isTrue();
                Files.createFile(marker);
                List<Integer> out = call.get(180, TimeUnit.SECONDS);
                long completedAt = System.nanoTime();

                assertThat(out).hasSize(10_000).isEqualTo(range(10_000).stream().map(x -> x * 2).toList());
                assertThat(pool.memberLosses()).hasSize(1);
                ClusterPool.MemberLoss loss = pool.memberLosses().get(0);
                assertThat(loss.member()).isEqualTo(victim.address());
                assertThat(loss.chunks()).as("chunks the victim held: at least its waiting ones").isGreaterThanOrEqualTo(before.capacity());
                assertThat(loss.doneAtNanos()).isPositive();
                System.out.printf("recovery after SIGKILL of %s: noticed after %d ms, its %d chunks ran again within %d ms "
                                + "of the kill; the whole map ended %d ms after it%n", victim.address(),
                        (loss.lostAtNanos() - killedAt) / 1_000_000, loss.chunks(), (loss.doneAtNanos() - killedAt) / 1_000_000,
                        (completedAt - killedAt) / 1_000_000);
            } finally {
                if (!Files.exists(marker)) {
                    Files.createFile(marker); // let waiting chunks end, so close() does not wait for ever
                }
            }
        }
        victimGone();
    }

    /** Tops the cluster up to two live members and waits until the pool uses them. */
    private void awaitTwoMembers(ClusterPool pool) {
        long live = cluster.members().stream().filter(m -> m.process().isAlive()).count();
        for (long i = live; i < 2; i++) {
            cluster.addMember();
        }
        pool.awaitMembers(2, Duration.ofSeconds(60));
    }

    private void victimGone() {
        for (var m : cluster.members()) {
            if (!m.process().isAlive()) {
                Conditions.await("killed member's port to close", Duration.ofSeconds(30), () -> !SharedCluster.listening(m.address()));
            }
        }
    }

    @Test
    void memberLostWithoutRetries_failsTheChunk_namingTheMember() throws Exception {
        Path marker = dir.resolve("never-" + System.nanoTime());
        try (ClusterPool pool = connect(cluster.config())) {
            awaitTwoMembers(pool);
            String go = marker.toString();
            CompletableFuture<List<Integer>> call = pool.mapAsync((Integer x) -> doubledOnceMarked(x, 0, go), range(16), 1);
            try {
                awaitEveryWorkerWaiting(pool, marker, Duration.ofSeconds(60));
                String address = pool.members().get(0).address();
                Process victim = cluster.members().stream().filter(m -> m.address().equals(address)).findFirst().orElseThrow()
                        .process();
                victim.destroyForcibly();
                assertThat(victim.waitFor(30, TimeUnit.SECONDS)).as("the killed member exited").isTrue();
                assertThatThrownBy(() -> call.get(120, TimeUnit.SECONDS)).cause().isInstanceOf(TaskFailedException.class)
                        .hasMessageContaining(address).hasMessageContaining("retries");
            } finally {
                Files.createFile(marker);
            }
        }
        victimGone();
    }

    @Test
    void memberJoiningMidMap_getsWork() {
        try (ClusterPool pool = connect(cluster.config())) {
            Iterator<Integer> results = pool.imap((Integer x) -> {
                java.util.concurrent.locks.LockSupport.parkNanos(2_000_000); // the work takes a while
                return x + 1;
            }, () -> IntStream.iterate(0, i -> i + 1).boxed().iterator(), 1);
            assertThat(results.next()).isEqualTo(1);
            var joiner = CompletableFuture.supplyAsync(cluster::addMember);
            int expected = 2;
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(150);
            while (!joiner.isDone() || pool.members().stream().noneMatch(m -> m.address().equals(joiner.join().address()) && m.done() >= 5)) {
                assertThat(results.next()).isEqualTo(expected++);
                assertThat(System.nanoTime() - deadline).as("the new member got no work in time").isNegative();
            }
            System.out.printf("the member that joined mid-map ran chunks after %d results%n", expected - 1);
        }
    }

    @Test
    void memberWithTheWrongKey_getsNoWork_evenWhenItLearnedTheClusterName() throws Exception {
        byte[] otherKey = new byte[32];
        new java.security.SecureRandom().nextBytes(otherKey);
        LocalCluster.LocalMember apart = cluster.addMemberWithKey(otherKey, false);
        LocalCluster.LocalMember intruder = cluster.addMemberWithKey(otherKey, true);
        try (ClusterPool pool = connect(cluster.config())) {
            assertThat(pool.map((Integer x) -> x + 1, range(2_000), 1)).isEqualTo(IntStream.range(1, 2_001).boxed().toList());
            assertThat(pool.members()).extracting(ClusterPool.MemberState::address)
                    .doesNotContain(apart.address(), intruder.address());
        } finally {
            cluster.stop(apart);
            cluster.stop(intruder);
        }
        // each prints what it ran as it stops: nothing
        assertThat(apart.output()).contains("stopped chunks=0 refused=0");
        assertThat(intruder.output()).contains("stopped chunks=0 refused=0");
    }

    @Test
    void clientWithTheWrongKey_getsAClearError_notAHang() {
        byte[] otherKey = new byte[32];
        new java.security.SecureRandom().nextBytes(otherKey);
        long start = System.nanoTime();
        assertThatThrownBy(() -> connect(cluster.config().authKey(otherKey).connectTimeout(Duration.ofSeconds(3))))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("answer but refused").hasMessageContaining("same key file");
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(60));
    }

    @Test
    void taskFailure_carriesTheRemoteExceptionAndMember() {
        try (ClusterPool pool = connect(cluster.config())) {
            assertThatThrownBy(() -> pool.map((Integer x) -> 10 / x, List.of(1, 0), 1))
                    .isInstanceOf(TaskFailedException.class)
                    .satisfies(e -> {
                        var failure = (TaskFailedException) e;
                        assertThat(failure.getCause()).isInstanceOf(ArithmeticException.class);
                        assertThat(failure.getCause().getStackTrace()).isNotEmpty();
                        assertThat(failure.worker().name()).startsWith("member 127.0.0.1:");
                        assertThat(cluster.members()).extracting(LocalCluster.LocalMember::pid).contains(failure.worker().pid());
                    });
        }
    }

    @Test
    void taskTimeout_failsTheTaskWithTaskTimeoutException() {
        try (ClusterPool pool = connect(cluster.config().taskTimeout(Duration.ofMillis(300)))) {
            List<Integer> quick = pool.map((Integer x) -> x, range(3), 1);
            assertThat(quick).containsExactly(0, 1, 2);
            assertThatThrownBy(() -> pool.map((Integer x) -> {
                if (x == 1) {
                    try {
                        Thread.sleep(60_000); // the work hangs; the timeout ends it
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
                return x;
            }, range(3), 1)).isInstanceOf(io.multiproc4j.TaskTimeoutException.class)
                    .satisfies(e -> assertThat(((TaskFailedException) e).taskIndex()).isEqualTo(1));
        }
    }

    @Test
    void resultsWithALargeChunk_travelWhole() {
        try (ClusterPool pool = connect(cluster.config())) {
            List<Integer> out = new ArrayList<>(pool.map((Integer x) -> -x, range(50_000)));
            assertThat(out).isEqualTo(range(50_000).stream().map(x -> -x).toList());
        }
    }
}
