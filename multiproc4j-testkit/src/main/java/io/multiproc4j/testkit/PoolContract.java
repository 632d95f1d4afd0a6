package io.multiproc4j.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.multiproc4j.Pool;
import io.multiproc4j.PoolState;
import io.multiproc4j.TaskFailedException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * What every {@link Pool} must do, whatever its engine: bind it by extending this class and
 * implementing {@link #createPool(int)}. One pool of two workers serves the tests that do not end it.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Deadline(seconds = 120)
public abstract class PoolContract {
    /** The pool shared by the tests that leave it running. */
    protected Pool pool;

    /**
     * @param workers how many workers
     * @return a new pool of this backend
     */
    protected abstract Pool createPool(int workers);

    @BeforeAll
    void startSharedPool() {
        pool = createPool(2);
    }

    @AfterAll
    void closeSharedPool() {
        if (pool != null) {
            pool.terminate();
        }
    }

    private static List<Integer> range(int n) {
        return IntStream.range(0, n).boxed().toList();
    }

    private static List<Integer> plusOne(int n) {
        return IntStream.range(1, n + 1).boxed().toList();
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 1, 2, 3, 7, 100, 1000, 5000})
    void map_keepsInputOrder_forEveryChunkSize(int chunkSize) {
        assertThat(pool.map((Integer x) -> x + 1, range(1000), chunkSize)).isEqualTo(plusOne(1000));
    }

    @Test
    void map_ofEmptyInput_isEmpty() {
        assertThat(pool.map((Integer x) -> x + 1, List.<Integer>of())).isEmpty();
        assertThat(pool.imap((Integer x) -> x + 1, List.<Integer>of()).hasNext()).isFalse();
        assertThat(pool.imapUnordered((Integer x) -> x + 1, List.<Integer>of()).hasNext()).isFalse();
    }

    @Test
    void map_carriesNullsAndRichValues() {
        List<Object> inputs = new ArrayList<>(List.of("a", 1L, 2.5, List.of(1, 2), new int[] {3}));
        inputs.add(null);
        List<String> out = pool.map((Object x) -> x == null ? "null" : x instanceof int[] a ? "ints" + a[0] : x.toString(),
                inputs, 1);
        assertThat(out).containsExactly("a", "1", "2.5", "[1, 2]", "ints3", "null");
    }

    @Test
    void map_readsAnyIterable() {
        Iterable<Integer> once = () -> range(10).iterator();
        assertThat(pool.map((Integer x) -> x * 2, once)).containsExactly(0, 2, 4, 6, 8, 10, 12, 14, 16, 18);
    }

    @Test
    void map_throwsTaskFailedException_withOriginalCauseAndIndex() {
        assertThatThrownBy(() -> pool.map((Integer x) -> 10 / x, List.of(1, 0, 2), 1))
                .isInstanceOf(TaskFailedException.class)
                .satisfies(e -> {
                    var failure = (TaskFailedException) e;
                    assertThat(failure.getCause()).isInstanceOf(ArithmeticException.class).hasMessageContaining("/ by zero");
                    assertThat(failure.taskIndex()).isEqualTo(1);
                    assertThat(failure.worker()).isNotNull();
                    assertThat(failure.worker().pid()).isPositive();
                });
    }

    @Test
    void pool_staysUsable_afterTaskFailures() {
        for (int i = 0; i < 3; i++) {
            assertThatThrownBy(() -> pool.map((Integer x) -> {
                throw new IllegalStateException("boom " + x);
            }, range(5), 2)).isInstanceOf(TaskFailedException.class).hasRootCauseInstanceOf(IllegalStateException.class);
        }
        assertThat(pool.map((Integer x) -> x + 1, range(100))).isEqualTo(plusOne(100));
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 3, 50})
    void imap_keepsOrder(int chunkSize) {
        List<Integer> out = new ArrayList<>();
        pool.imap((Integer x) -> x + 1, range(500), chunkSize).forEachRemaining(out::add);
        assertThat(out).isEqualTo(plusOne(500));
    }

    @Test
    void imap_readsInputLazily_withBoundedChunksInFlight() {
        AtomicLong consumed = new AtomicLong();
        Iterator<Integer> endless = new Iterator<>() {
            int next;

            @Override
            public boolean hasNext() {
                return true;
            }

            @Override
            public Integer next() {
                consumed.incrementAndGet();
                return next++;
            }
        };
        int chunkSize = 10;
        Iterator<Integer> results = pool.imap((Integer x) -> x * 2, () -> endless, chunkSize);
        for (int i = 0; i < 1000; i++) {
            assertThat(results.next()).isEqualTo(i * 2);
        }
        // 1000 taken; at most the window's chunks were read beyond them, never the whole input.
        long window = maxChunksReadAhead(pool.workers(), chunkSize);
        assertThat(consumed.get()).as("inputs read with 1000 results taken, %d workers, a window of %d chunks of %d",
                pool.workers(), window, chunkSize).isBetween(1000L, 1000L + window * chunkSize);
    }

    /**
     * The most chunks a lazy call ({@code imap}, {@code imapUnordered}) may have read beyond the
     * results its consumer took: two per worker and two spare, or, with small chunks, enough chunks
     * for 64 inputs per worker (each chunk costs a round trip); never more than 1024. Every engine
     * keeps this bound; an engine that documents another one overrides this method.
     *
     * @param workers   the pool's {@link Pool#workers()}
     * @param chunkSize the call's chunk size
     * @return the bound, in chunks
     */
    protected int maxChunksReadAhead(int workers, int chunkSize) {
        if (workers >= 1024) {
            return 1024;
        }
        int chunksFor64Inputs = (64 + chunkSize - 1) / chunkSize;
        return Math.min(1024, Math.max(workers * 2 + 2, workers * chunksFor64Inputs));
    }

    @Test
    void imap_throwsInPlace_afterEarlierResults_thenEnds() {
        Iterator<Integer> it = pool.imap((Integer x) -> {
            if (x == 3) {
                throw new IllegalArgumentException("three");
            }
            return x;
        }, range(10), 1);
        assertThat(it.next()).isEqualTo(0);
        assertThat(it.next()).isEqualTo(1);
        assertThat(it.next()).isEqualTo(2);
        assertThatThrownBy(it::next).isInstanceOf(TaskFailedException.class)
                .hasCauseInstanceOf(IllegalArgumentException.class);
        assertThat(it.hasNext()).isFalse();
        assertThatThrownBy(it::next).isInstanceOf(NoSuchElementException.class);
    }

    @Test
    void imap_rethrowsInputIteratorFailure_asIs() {
        Iterator<Integer> bad = new Iterator<>() {
            int n;

            @Override
            public boolean hasNext() {
                return true;
            }

            @Override
            public Integer next() {
                if (n == 5) {
                    throw new IllegalStateException("input broke");
                }
                return n++;
            }
        };
        Iterator<Integer> it = pool.imap((Integer x) -> x, () -> bad, 2);
        assertThatThrownBy(() -> it.forEachRemaining(x -> { })).isInstanceOf(IllegalStateException.class)
                .hasMessage("input broke");
        assertThat(pool.map((Integer x) -> x + 1, range(10))).isEqualTo(plusOne(10));
    }

    @Test
    void map_rethrowsInputIteratorFailure_asIs() {
        Iterable<Integer> bad = () -> new Iterator<>() {
            @Override
            public boolean hasNext() {
                return true;
            }

            @Override
            public Integer next() {
                throw new UnsupportedOperationException("no input today");
            }
        };
        assertThatThrownBy(() -> pool.map((Integer x) -> x, bad)).isInstanceOf(UnsupportedOperationException.class)
                .hasMessage("no input today");
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 4, 64})
    void imapUnordered_yieldsEveryResultOnce(int chunkSize) {
        Set<Integer> seen = new HashSet<>();
        List<Integer> all = new ArrayList<>();
        pool.imapUnordered((Integer x) -> x + 1, range(300), chunkSize).forEachRemaining(all::add);
        seen.addAll(all);
        assertThat(all).hasSize(300);
        assertThat(seen).isEqualTo(new HashSet<>(plusOne(300)));
    }

    @Test
    void imapUnordered_throwsTaskFailure_thenEnds() {
        Iterator<Integer> it = pool.imapUnordered((Integer x) -> {
            if (x == 7) {
                throw new IllegalArgumentException("seven");
            }
            return x;
        }, range(20), 1);
        assertThatThrownBy(() -> it.forEachRemaining(x -> { })).isInstanceOf(TaskFailedException.class)
                .hasCauseInstanceOf(IllegalArgumentException.class);
        assertThat(it.hasNext()).isFalse();
    }

    @Test
    void starmap_appliesPairs() {
        List<Integer> products = pool.starmap((a, b) -> a * b, List.of(List.of(2, 3), List.of(4, 5)));
        assertThat(products).containsExactly(6, 20);
        List<String> mixed = pool.starmap((Object s, Object n) -> s + "=" + n, List.of(List.of("a", 1), List.of("b", 2)));
        assertThat(mixed).containsExactly("a=1", "b=2");
    }

    @Test
    void starmap_refusesElementsThatAreNotPairs() {
        assertThatThrownBy(() -> pool.starmap((Integer a, Integer b) -> a * b, List.of(List.of(1, 2), List.of(3))))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("exactly two").hasMessageContaining("element 1");
    }

    @Test
    void applyAsync_completesFuture_andFailsItWithTaskFailure() throws Exception {
        CompletableFuture<Integer> square = pool.applyAsync((Integer x) -> x * x, 12);
        assertThat(square.get(30, TimeUnit.SECONDS)).isEqualTo(144);
        CompletableFuture<Integer> bad = pool.applyAsync((Integer x) -> x / (x - 12), 12);
        assertThatThrownBy(() -> bad.get(30, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
                .cause().isInstanceOf(TaskFailedException.class).cause().isInstanceOf(ArithmeticException.class);
    }

    @Test
    void mapAsync_completesWithOrderedResults() throws Exception {
        assertThat(pool.mapAsync((Integer x) -> x + 1, range(1000)).get(30, TimeUnit.SECONDS)).isEqualTo(plusOne(1000));
    }

    @Test
    void pool_isSafeToUseFromManyThreadsAtOnce() throws Exception {
        List<CompletableFuture<List<Integer>>> calls = new ArrayList<>();
        for (int t = 0; t < 8; t++) {
            int offset = t * 1000;
            calls.add(CompletableFuture.supplyAsync(() ->
                    pool.map((Integer x) -> x + offset, range(500), 7)));
        }
        for (int t = 0; t < calls.size(); t++) {
            int offset = t * 1000;
            assertThat(calls.get(t).get(60, TimeUnit.SECONDS))
                    .isEqualTo(IntStream.range(offset, offset + 500).boxed().toList());
        }
    }

    @Test
    void badArguments_failAtTheCall_withClearMessages() {
        assertThatThrownBy(() -> pool.map((Integer x) -> x, range(3), -1))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("chunkSize");
        assertThatThrownBy(() -> pool.imap((Integer x) -> x, range(3), -5))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("chunkSize");
        assertThatThrownBy(() -> pool.map(null, range(3))).isInstanceOf(NullPointerException.class).hasMessageContaining("fn");
        assertThatThrownBy(() -> pool.map((Integer x) -> x, null)).isInstanceOf(NullPointerException.class).hasMessageContaining("inputs");
        assertThat(pool.map((Integer x) -> x + 1, range(3))).containsExactly(1, 2, 3);
    }

    @Test
    void close_finishesAcceptedWork_thenRefusesCalls() throws Exception {
        Pool own = createPool(2);
        CompletableFuture<List<Integer>> accepted = own.mapAsync((Integer x) -> x + 1, range(2000), 10);
        assertThat(own.state()).isEqualTo(PoolState.RUNNING);
        own.close();
        assertThat(accepted.get(30, TimeUnit.SECONDS)).isEqualTo(plusOne(2000));
        assertThat(own.state()).isEqualTo(PoolState.TERMINATED);
        assertThat(own.awaitTermination(Duration.ofSeconds(1))).isTrue();
        assertThatThrownBy(() -> own.map((Integer x) -> x, range(1))).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("no new work");
        own.close(); // a second close does nothing
    }

    @Test
    void terminate_failsUnfinishedWork_withCancellation() throws Exception {
        Pool own = createPool(1);
        CompletableFuture<List<Integer>> slow = own.mapAsync((Integer x) -> {
            try {
                Thread.sleep(50); // the work itself is slow; nothing waits on it
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return x;
        }, range(1000), 1);
        own.terminate();
        // A future failed with CancellationException reports itself as cancelled.
        assertThatThrownBy(() -> slow.get(30, TimeUnit.SECONDS)).isInstanceOf(java.util.concurrent.CancellationException.class);
        assertThat(slow.isCancelled()).isTrue();
        assertThat(own.awaitTermination(Duration.ofSeconds(30))).isTrue();
        assertThat(own.state()).isEqualTo(PoolState.TERMINATED);
    }

    @Test
    void manySmallCalls_allComplete() throws Exception {
        List<CompletableFuture<Integer>> futures = new ArrayList<>();
        for (int i = 0; i < 500; i++) {
            futures.add(pool.applyAsync((Integer x) -> x + 1, i));
        }
        List<Integer> results = new ArrayList<>();
        for (CompletableFuture<Integer> f : futures) {
            results.add(f.get(60, TimeUnit.SECONDS));
        }
        assertThat(results).isEqualTo(plusOne(500));
        assertThat(Collections.frequency(results, 1)).isEqualTo(1);
    }
}
