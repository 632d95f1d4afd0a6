package io.multiproc4j;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Python's {@code concurrent.futures.wait} and {@code as_completed}, for {@link CompletableFuture}s
 * from anywhere (executors of ours or not).
 *
 * {@snippet :
 * var result = Futures.wait(List.of(a, b), Futures.FIRST_COMPLETED, Duration.ofSeconds(5));
 * result.done();     // the futures that finished
 * for (CompletableFuture<Long> f : Futures.asCompleted(List.of(a, b), Duration.ofSeconds(10))) {
 *     use(f.join());  // finished futures, each once, in the order they finished
 * }
 * }
 */
public final class Futures {
    /** When {@link #wait} returns. */
    public enum ReturnWhen {
        /** As soon as any future is done. */
        FIRST_COMPLETED,
        /** As soon as any future fails (or is cancelled), or all are done. */
        FIRST_EXCEPTION,
        /** When all are done. */
        ALL_COMPLETED
    }

    /** Return as soon as any future is done. */
    public static final ReturnWhen FIRST_COMPLETED = ReturnWhen.FIRST_COMPLETED;
    /** Return as soon as any future fails, or all are done. */
    public static final ReturnWhen FIRST_EXCEPTION = ReturnWhen.FIRST_EXCEPTION;
    /** Return when all are done. */
    public static final ReturnWhen ALL_COMPLETED = ReturnWhen.ALL_COMPLETED;

    private Futures() {}

    /**
     * The outcome of {@link #wait}: each future appears once, in one of the two sets.
     *
     * @param done    the futures that are done
     * @param notDone the others
     * @param <F>     the future type
     */
    public record DoneAndNotDone<F extends CompletableFuture<?>>(Set<F> done, Set<F> notDone) {}

    /**
     * Waits until {@code when} holds or the timeout passes (then returns what is done so far; no
     * exception, as in Python).
     *
     * @param futures the futures; duplicates count once
     * @param when    the condition
     * @param timeout the longest wait
     * @param <F>     the future type
     * @return the done and not-done futures
     * @throws InterruptedException if interrupted while waiting
     */
    public static <F extends CompletableFuture<?>> DoneAndNotDone<F> wait(Collection<? extends F> futures, ReturnWhen when,
                                                                         Duration timeout) throws InterruptedException {
        Set<F> all = new LinkedHashSet<>(futures);
        var signal = new LinkedBlockingQueue<F>();
        for (F f : all) {
            f.whenComplete((v, t) -> signal.add(f));
        }
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!satisfied(all, when)) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                break;
            }
            signal.poll(left, TimeUnit.NANOSECONDS);
        }
        Set<F> done = new LinkedHashSet<>();
        Set<F> notDone = new LinkedHashSet<>();
        for (F f : all) {
            (f.isDone() ? done : notDone).add(f);
        }
        return new DoneAndNotDone<>(done, notDone);
    }

    private static boolean satisfied(Set<? extends CompletableFuture<?>> all, ReturnWhen when) {
        boolean allDone = true;
        for (CompletableFuture<?> f : all) {
            if (f.isDone()) {
                if (when == ReturnWhen.FIRST_COMPLETED || when == ReturnWhen.FIRST_EXCEPTION && f.isCompletedExceptionally()) {
                    return true;
                }
            } else {
                allDone = false;
            }
        }
        return allDone;
    }

    /**
     * @param futures the futures; duplicates count once
     * @param <F>     the future type
     * @return the futures in the order they finish, those already finished first; blocks as needed
     */
    public static <F extends CompletableFuture<?>> Iterable<F> asCompleted(Collection<? extends F> futures) {
        return asCompleted(futures, null);
    }

    /**
     * @param futures the futures; duplicates count once
     * @param timeout how long the whole iteration may take from this call, or {@code null} for ever
     * @param <F>     the future type
     * @return the futures in the order they finish, those already finished first; once the timeout
     *     has passed, {@code next()} throws {@link FuturesTimeoutException} ("N (of M) futures unfinished")
     */
    public static <F extends CompletableFuture<?>> Iterable<F> asCompleted(Collection<? extends F> futures,
                                                                          Duration timeout) {
        long deadline = timeout == null ? Long.MAX_VALUE : System.nanoTime() + timeout.toNanos();
        List<F> distinct = new ArrayList<>(new LinkedHashSet<>(futures));
        var finished = new LinkedBlockingQueue<F>();
        List<F> later = new ArrayList<>();
        for (F f : distinct) {
            if (f.isDone()) {
                finished.add(f);
            } else {
                later.add(f);
            }
        }
        for (F f : later) {
            f.whenComplete((v, t) -> finished.add(f));
        }
        int total = distinct.size();
        return () -> new Iterator<>() {
            private final Set<F> yielded = new LinkedHashSet<>();

            @Override
            public boolean hasNext() {
                return yielded.size() < total;
            }

            @Override
            public F next() {
                if (!hasNext()) {
                    throw new NoSuchElementException();
                }
                while (true) {
                    F f;
                    try {
                        f = timeout == null ? finished.take()
                                : finished.poll(deadline - System.nanoTime(), TimeUnit.NANOSECONDS);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw new java.util.concurrent.CancellationException("interrupted while waiting for futures");
                    }
                    if (f == null) {
                        int unfinished = total - yielded.size();
                        throw new FuturesTimeoutException(new TimeoutException(
                                unfinished + " (of " + total + ") futures unfinished"));
                    }
                    if (yielded.add(f)) { // a future already done is queued twice at most; yield it once
                        return f;
                    }
                }
            }
        };
    }
}
