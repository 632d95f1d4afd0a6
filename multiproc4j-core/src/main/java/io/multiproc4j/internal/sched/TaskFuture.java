package io.multiproc4j.internal.sched;

import io.multiproc4j.spi.Engine;
import java.util.concurrent.CompletableFuture;

/**
 * An executor task's future: {@code cancel(true)} stops the task where it runs (the engine kills its
 * worker JVM, or interrupts its thread). Futures derived from it ({@code thenApply}, ...) are plain.
 */
final class TaskFuture<T> extends CompletableFuture<T> {
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

    @Override
    public <U> CompletableFuture<U> newIncompleteFuture() {
        return new CompletableFuture<>();
    }
}
