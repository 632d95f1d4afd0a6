package io.multiproc4j.testkit;

import io.multiproc4j.SerializableFunction;
import io.multiproc4j.spi.Batch;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A batch of one input handed straight to an engine (which encodes its function itself), for the
 * tests that drive {@code ProcessEngine} without a pool; its outcome is a future.
 */
class OneInputBatch implements Batch {
    private static final AtomicLong FUNCTION_IDS = new AtomicLong(1L << 40);

    final CompletableFuture<Object> outcome = new CompletableFuture<>();
    private final SerializableFunction<Object, Object> function;
    private final long functionId = FUNCTION_IDS.incrementAndGet();
    private final Object input;

    OneInputBatch(SerializableFunction<Object, Object> function, Object input) {
        this.function = function;
        this.input = input;
    }

    @Override
    public SerializableFunction<Object, Object> function() {
        return function;
    }

    @Override
    public long functionId() {
        return functionId;
    }

    @Override
    public List<Object> inputs() {
        List<Object> inputs = new ArrayList<>(1);
        inputs.add(input);
        return inputs;
    }

    @Override
    public long firstIndex() {
        return 0;
    }

    @Override
    public boolean isCancelled() {
        return false;
    }

    @Override
    public void deliver(int offset, List<?> results) {
        outcome.complete(results.getFirst());
    }

    @Override
    public void fail(int offset, RuntimeException failure) {
        outcome.completeExceptionally(failure);
    }
}
