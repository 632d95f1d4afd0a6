package io.multiproc4j.internal.sched;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.concurrent.Flow;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * Results as a cold {@link Flow.Publisher}: each subscription reads the inputs anew.
 *
 * <h2>Back-pressure</h2>
 * An input is read only when the subscriber has asked for a result that no input in flight will
 * give: inputs read ≤ results emitted + outstanding demand, and at most {@code window} batches are
 * open. Results are emitted in input order.
 *
 * <h2>Concurrency</h2>
 * Signals to the subscriber, and reads of the input iterator, happen only in the drain loop, which
 * one thread at a time runs (the work-in-progress counter), on the callback executor: never on an
 * engine's thread, so a slow subscriber cannot stall a worker.
 */
final class ResultPublisher<R> implements Flow.Publisher<R> {
    private final Supplier<Iterator<?>> inputs;
    private final FunctionSpec function;
    private final int chunkSize;
    private final int window;
    private final Consumer<BatchTask> submit;
    private final Executor signals;

    ResultPublisher(Supplier<Iterator<?>> inputs, FunctionSpec function, int chunkSize, int window,
                    Consumer<BatchTask> submit, Executor signals) {
        this.inputs = inputs;
        this.function = function;
        this.chunkSize = chunkSize;
        this.window = window;
        this.submit = submit;
        this.signals = signals;
    }

    @Override
    public void subscribe(Flow.Subscriber<? super R> subscriber) {
        var subscription = new Subscription(subscriber);
        subscriber.onSubscribe(subscription);
    }

    private final class Subscription implements Flow.Subscription, Job {
        private final Flow.Subscriber<? super R> subscriber;
        private final AtomicInteger wip = new AtomicInteger();
        private final ReentrantLock lock = new ReentrantLock();
        // guarded by lock:
        private final ArrayDeque<Open> open = new ArrayDeque<>();
        private long requested;
        private boolean cancelled;
        // drain loop only:
        private Iterator<?> input;
        private boolean inputDone;
        private boolean terminated;
        private long inFlightInputs;
        private long nextIndex;

        Subscription(Flow.Subscriber<? super R> subscriber) {
            this.subscriber = subscriber;
        }

        private final class Open {
            final BatchTask task;
            final Object[] results;
            int ready;
            int emitted;
            RuntimeException failure;
            int failedAt = -1;

            Open(BatchTask task) {
                this.task = task;
                this.results = new Object[task.size()];
            }
        }

        @Override
        public void request(long n) {
            lock.lock();
            try {
                if (n <= 0) {
                    cancelled = true;
                    open.clear();
                } else {
                    requested = requested + n < 0 ? Long.MAX_VALUE : requested + n;
                }
            } finally {
                lock.unlock();
            }
            if (n <= 0) {
                signals.execute(() -> subscriber.onError(new IllegalArgumentException(
                        "request(n) needs n > 0 (Reactive Streams rule 3.9), was " + n)));
                return;
            }
            drain();
        }

        @Override
        public void cancel() {
            lock.lock();
            try {
                cancelled = true;
                open.clear();
            } finally {
                lock.unlock();
            }
        }

        @Override
        public boolean isCancelled() {
            lock.lock();
            try {
                return cancelled;
            } finally {
                lock.unlock();
            }
        }

        @Override
        public void onResults(BatchTask batch, int offset, List<?> values) {
            lock.lock();
            try {
                for (Open o : open) {
                    if (o.task == batch) {
                        for (int i = 0; i < values.size(); i++) {
                            o.results[offset + i] = values.get(i);
                        }
                        o.ready = offset + values.size();
                        break;
                    }
                }
            } finally {
                lock.unlock();
            }
            drain();
        }

        @Override
        public void onFailure(BatchTask batch, int offset, RuntimeException failure) {
            lock.lock();
            try {
                for (Open o : open) {
                    if (o.task == batch) {
                        o.failure = failure;
                        o.failedAt = offset;
                        break;
                    }
                }
            } finally {
                lock.unlock();
            }
            drain();
        }

        private void drain() {
            if (wip.getAndIncrement() == 0) {
                signals.execute(this::drainLoop);
            }
        }

        private void drainLoop() {
            int missed = 1;
            while (true) {
                if (!terminated) {
                    step();
                }
                missed = wip.addAndGet(-missed);
                if (missed == 0) {
                    return;
                }
            }
        }

        /** Emits what is ready and wanted, reads as much input as the demand justifies, completes at the end. */
        @SuppressWarnings("unchecked")
        private void step() {
            while (true) {
                Object next;
                RuntimeException failure = null;
                lock.lock();
                try {
                    if (cancelled) {
                        terminated = true;
                        return;
                    }
                    Open head = open.peekFirst();
                    if (head == null) {
                        break;
                    }
                    if (head.emitted < head.ready && (head.failure == null || head.emitted < head.failedAt)) {
                        if (requested == 0) {
                            break;
                        }
                        next = head.results[head.emitted];
                        head.results[head.emitted++] = null;
                        requested--;
                        inFlightInputs--;
                        if (head.emitted == head.results.length) {
                            open.removeFirst();
                        }
                    } else if (head.failure != null) {
                        failure = head.failure;
                        cancelled = true;
                        open.clear();
                        next = null;
                    } else {
                        break; // the head's next result has not arrived
                    }
                } finally {
                    lock.unlock();
                }
                if (failure != null) {
                    terminated = true;
                    subscriber.onError(failure);
                    return;
                }
                subscriber.onNext((R) next);
            }
            feed();
            boolean complete;
            lock.lock();
            try {
                complete = inputDone && open.isEmpty() && !cancelled;
            } finally {
                lock.unlock();
            }
            if (complete && !terminated) {
                terminated = true;
                subscriber.onComplete();
            }
        }

        private void feed() {
            while (!inputDone) {
                long wanted;
                lock.lock();
                try {
                    if (cancelled || open.size() >= window) {
                        return;
                    }
                    wanted = requested - inFlightInputs;
                } finally {
                    lock.unlock();
                }
                if (wanted <= 0) {
                    return;
                }
                List<Object> chunk = new ArrayList<>();
                try {
                    if (input == null) {
                        input = inputs.get();
                    }
                    while (chunk.size() < chunkSize && chunk.size() < wanted && input.hasNext()) {
                        chunk.add(input.next());
                    }
                    if (!input.hasNext()) {
                        inputDone = true;
                    }
                } catch (RuntimeException e) {
                    cancel();
                    terminated = true;
                    subscriber.onError(e);
                    return;
                }
                if (chunk.isEmpty()) {
                    break;
                }
                var task = new BatchTask(function, chunk, nextIndex, this);
                nextIndex += chunk.size();
                inFlightInputs += chunk.size();
                lock.lock();
                try {
                    open.addLast(new Open(task));
                } finally {
                    lock.unlock();
                }
                try {
                    submit.accept(task);
                } catch (RejectedExecutionException | IllegalStateException e) {
                    task.fail(0, new IllegalStateException("the pool was closed before this publisher had read all its input", e));
                    return;
                }
            }
        }
    }
}
