package io.multiproc4j.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.multiproc4j.Futures;
import io.multiproc4j.FuturesTimeoutException;
import io.multiproc4j.TaskExecutor;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Flow;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * What every {@link TaskExecutor} must do beyond {@link java.util.concurrent.ExecutorService} (ported
 * from CPython's {@code test_concurrent_futures}): results and callbacks of its
 * {@code CompletableFuture}s, {@code publish}, {@link Futures}. Bind it by extending this class; the
 * {@code ExecutorService} contract itself is {@link ExecutorServiceContract}, bound for the same
 * kinds. Slow tasks wait on a deadline, never forever.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Deadline(seconds = 120)
public abstract class TaskExecutorContract {
    /** The executor shared by tests that leave it running. */
    protected TaskExecutor executor;

    /**
     * @param workers the most workers
     * @return a new executor of this backend
     */
    protected abstract TaskExecutor createExecutor(int workers);

    @BeforeAll
    void startShared() {
        executor = createExecutor(2);
    }

    @AfterAll
    void stopShared() {
        executor.shutdownNow();
    }

    /** A task that takes a while (the work itself, not a synchronization) and stops when interrupted. */
    static Integer slow(int millis, int value) {
        long end = System.nanoTime() + millis * 1_000_000L;
        while (System.nanoTime() < end) {
            java.util.concurrent.locks.LockSupport.parkNanos(1_000_000);
            if (Thread.currentThread().isInterrupted()) {
                throw new CancellationException("interrupted");
            }
        }
        return value;
    }

    @Test
    void submit_returnsResult_andTheTasksOwnException() throws Exception {
        assertThat(executor.submit(() -> 6 * 7).get(30, TimeUnit.SECONDS)).isEqualTo(42);
        CompletableFuture<Integer> failing = executor.submit(() -> {
            throw new IOException("disk on fire");
        });
        assertThatThrownBy(() -> failing.get(30, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
                .cause().isInstanceOf(IOException.class).hasMessage("disk on fire");
    }

    @Test
    void submitRunnable_completesWithNullOrTheGivenResult() throws Exception {
        assertThat(executor.submit(() -> { Math.abs(-1); }).get(30, TimeUnit.SECONDS)).isNull();
        Runnable plain = (Runnable & java.io.Serializable) () -> { };
        assertThat(executor.submit(plain, "given").get(30, TimeUnit.SECONDS)).isEqualTo("given");
    }

    @Test
    void callbacks_runForResultsFailuresAndCancellations_evenWhenAddedLate() throws Exception {
        List<String> seen = new CopyOnWriteArrayList<>();
        CompletableFuture<Integer> ok = executor.submit(() -> 1);
        ok.get(30, TimeUnit.SECONDS);
        var okDone = ok.whenComplete((v, t) -> seen.add("ok:" + v));
        CompletableFuture<Integer> bad = executor.submit(() -> Integer.parseInt("x"));
        var badDone = bad.whenComplete((v, t) -> seen.add("bad:" + t.getClass().getSimpleName()));
        CompletableFuture<Integer> cancelled = executor.submit(() -> slow(5_000, 1));
        cancelled.cancel(true);
        var cancelledDone = cancelled.whenComplete((v, t) -> seen.add("cancelled:" + (t instanceof CancellationException)));
        for (var callback : List.of(okDone, badDone, cancelledDone)) {
            try {
                callback.get(30, TimeUnit.SECONDS);
            } catch (ExecutionException | CancellationException e) {
                // the callback ran; its future carries the task's outcome
            }
        }
        assertThat(seen).containsExactlyInAnyOrder("ok:1", "bad:NumberFormatException", "cancelled:true");
    }

    @Test
    void publish_emitsInOrder_thenTheFailure_afterTheResultsBeforeIt() throws Exception {
        var subscriber = new Collector<Integer>(Long.MAX_VALUE);
        executor.publish((Integer x) -> 10 / (x - 3), List.of(1, 2, 3, 4)).subscribe(subscriber);
        subscriber.done.get(30, TimeUnit.SECONDS);
        assertThat(subscriber.items).containsExactly(-5, -10);
        assertThat(subscriber.error).isNotNull().hasRootCauseInstanceOf(ArithmeticException.class);
    }

    @Test
    void publish_readsInputOnlyAsDemandAllows() throws Exception {
        AtomicLong read = new AtomicLong();
        Iterable<Integer> counted = () -> IntStream.range(0, 1_000_000).peek(i -> read.incrementAndGet()).iterator();
        var subscriber = new Collector<Integer>(3);
        executor.publish((Integer x) -> x + 1, counted).subscribe(subscriber);
        Conditions.await("3 results", Duration.ofSeconds(30), () -> subscriber.items.size() == 3);
        assertThat(subscriber.items).containsExactly(1, 2, 3);
        assertThat(read.get()).isLessThanOrEqualTo(4); // 3 requested (+1 read ahead by the iterator's hasNext)
        subscriber.subscription.request(2);
        Conditions.await("5 results", Duration.ofSeconds(30), () -> subscriber.items.size() == 5);
        assertThat(read.get()).isLessThanOrEqualTo(6);
        subscriber.subscription.cancel();
    }

    @Test
    void futuresWait_honoursEachMode() throws Exception {
        CompletableFuture<Integer> quick = executor.submit(() -> 1);
        CompletableFuture<Integer> failing = executor.submit(() -> Integer.parseInt("nope"));
        CompletableFuture<Integer> never = new CompletableFuture<>();
        var first = Futures.wait(List.of(quick, never, quick), Futures.FIRST_COMPLETED, Duration.ofSeconds(30));
        assertThat(first.done()).isNotEmpty().doesNotContain(never);
        assertThat(first.done().size() + first.notDone().size()).isEqualTo(2);
        var firstException = Futures.wait(List.of(failing, never), Futures.FIRST_EXCEPTION, Duration.ofSeconds(30));
        assertThat(firstException.done()).containsExactly(failing);
        long start = System.nanoTime();
        var all = Futures.wait(List.of(quick, never), Futures.ALL_COMPLETED, Duration.ofMillis(300));
        assertThat(System.nanoTime() - start).isGreaterThanOrEqualTo(250_000_000L);
        assertThat(all.done()).containsExactly(quick);
        assertThat(all.notDone()).containsExactly(never);
    }

    @Test
    void asCompleted_yieldsFinishedFirst_eachOnce_thenTimesOutNamingTheCount() throws Exception {
        CompletableFuture<Integer> done = CompletableFuture.completedFuture(0);
        CompletableFuture<Integer> soon = executor.submit(() -> slow(100, 1));
        soon.get(30, TimeUnit.SECONDS); // finished before the call: what is yielded depends on no clock
        CompletableFuture<Integer> never = new CompletableFuture<>();
        List<CompletableFuture<Integer>> yielded = new ArrayList<>();
        var it = Futures.asCompleted(List.of(never, done, soon, done), Duration.ofSeconds(1)).iterator();
        yielded.add(it.next());
        yielded.add(it.next());
        assertThat(yielded).as("the finished ones first, each once").containsExactlyInAnyOrder(done, soon);
        assertThatThrownBy(it::next).isInstanceOf(FuturesTimeoutException.class)
                .hasMessage("1 (of 3) futures unfinished").cause().isInstanceOf(TimeoutException.class);
    }

    @Test
    void tasksComplete_whenSubmittedFromManyThreads() throws Exception {
        List<CompletableFuture<CompletableFuture<Integer>>> submitters = new ArrayList<>();
        for (int t = 0; t < 8; t++) {
            int n = t;
            submitters.add(CompletableFuture.supplyAsync(() -> executor.submit(() -> n * 10)));
        }
        List<Integer> results = new ArrayList<>();
        for (var s : submitters) {
            results.add(s.get(30, TimeUnit.SECONDS).get(30, TimeUnit.SECONDS));
        }
        Collections.sort(results);
        assertThat(results).containsExactly(0, 10, 20, 30, 40, 50, 60, 70);
    }

    /** Collects what a publisher sends. */
    static final class Collector<T> implements Flow.Subscriber<T> {
        final List<T> items = new CopyOnWriteArrayList<>();
        final CompletableFuture<Void> done = new CompletableFuture<>();
        final long initial;
        volatile Throwable error;
        volatile Flow.Subscription subscription;

        Collector(long initial) {
            this.initial = initial;
        }

        @Override
        public void onSubscribe(Flow.Subscription subscription) {
            this.subscription = subscription;
            subscription.request(initial);
        }

        @Override
        public void onNext(T item) {
            items.add(item);
        }

        @Override
        public void onError(Throwable throwable) {
            error = throwable;
            done.complete(null);
        }

        @Override
        public void onComplete() {
            done.complete(null);
        }
    }
}
