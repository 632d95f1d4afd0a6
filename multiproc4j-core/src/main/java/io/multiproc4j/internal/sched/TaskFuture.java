package io.multiproc4j.internal.sched;

import io.multiproc4j.spi.Engine;

/**
 * An executor task's future: {@code cancel(true)} stops the task where it runs (the engine kills its
 * worker JVM, or interrupts its thread).
 */
final class TaskFuture<T> extends ResultFuture<T> {
    private final Engine engine;
    private volatile BatchTask batch;

    TaskFuture(Engine engine) {
        this.engine = engine;
    }

    void attach(BatchTask batch) {
        this.batch = batch;
    }

    BatchTask batch() {
        return batch;
    }

    @Override
    public boolean cancel(boolean mayInterruptIfRunning) {
        boolean cancelled = super.cancel(mayInterruptIfRunning);
        BatchTask task = batch;
        if (cancelled && mayInterruptIfRunning && task != null) {
            engine.interrupt(task);
        }
        return cancelled;
    }
}
