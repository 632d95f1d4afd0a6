package io.multiproc4j.internal.sched;

import io.multiproc4j.SerializableFunction;
import io.multiproc4j.spi.Batch;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A {@link Batch} of one call. Reports go to the call's {@link Job}; anything after the batch
 * ended (a late result from a thread that ignored an interrupt, a failure after terminate) is
 * dropped, so a job sees each batch end exactly once.
 */
final class BatchTask implements Batch {
    private final FunctionSpec function;
    private final List<Object> inputs;
    private final long firstIndex;
    private final Job job;
    private final byte[] encodedInputs;
    private final AtomicBoolean ended = new AtomicBoolean();
    private int delivered;

    BatchTask(FunctionSpec function, List<Object> inputs, long firstIndex, Job job) {
        this(function, inputs, firstIndex, job, null);
    }

    BatchTask(FunctionSpec function, List<Object> inputs, long firstIndex, Job job, byte[] encodedInputs) {
        this.function = function;
        this.inputs = inputs;
        this.firstIndex = firstIndex;
        this.job = job;
        this.encodedInputs = encodedInputs;
    }

    @Override
    public byte[] encodedInputs() {
        return encodedInputs;
    }

    @Override
    public SerializableFunction<Object, Object> function() {
        return function.function();
    }

    @Override
    public byte[] encodedFunction() {
        return function.bytes();
    }

    @Override
    public long functionId() {
        return function.id();
    }

    @Override
    public List<Object> inputs() {
        return inputs;
    }

    @Override
    public long firstIndex() {
        return firstIndex;
    }

    int size() {
        return inputs.size();
    }

    @Override
    public boolean isCancelled() {
        return job.isCancelled();
    }

    @Override
    public void deliver(int offset, List<?> results) {
        if (ended.get() || results.isEmpty()) {
            return;
        }
        synchronized (this) {
            if (offset != delivered) {
                throw new IllegalStateException("results for offset " + offset + " arrived, expected " + delivered);
            }
            delivered += results.size();
            if (delivered >= inputs.size() && !ended.compareAndSet(false, true)) {
                return;
            }
        }
        job.onResults(this, offset, results);
    }

    @Override
    public void fail(int offset, RuntimeException failure) {
        if (ended.compareAndSet(false, true)) {
            job.onFailure(this, offset, failure);
        }
    }
}
