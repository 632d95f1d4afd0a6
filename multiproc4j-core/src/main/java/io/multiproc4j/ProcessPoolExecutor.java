package io.multiproc4j;

/**
 * Creates {@link TaskExecutor}s on worker JVMs: Python's {@code ProcessPoolExecutor}, with futures
 * that are {@link java.util.concurrent.CompletableFuture}s and tasks that can really be cancelled.
 * They follow the whole {@link java.util.concurrent.ExecutorService} contract; a task must be
 * serializable (a lambda written in the {@code submit} call is), else the call throws
 * {@link java.util.concurrent.RejectedExecutionException} naming it.
 * {@link java.util.concurrent.ExecutorCompletionService} works over them as over any executor.
 */
public final class ProcessPoolExecutor {
    private ProcessPoolExecutor() {}

    /**
     * @param maxWorkers the most worker JVMs, started on demand; at least 1
     * @return a new executor
     */
    public static TaskExecutor create(int maxWorkers) {
        return builder().processes(maxWorkers).buildExecutor();
    }

    /** @return a new executor with one worker JVM (at most) per processor this JVM may use */
    public static TaskExecutor create() {
        return builder().buildExecutor();
    }

    /**
     * @return a builder with the pool options (maxTasksPerChild, taskTimeout, initializer, jvmOptions,
     *     ...) and the executor's own ({@link PoolBuilder#idleWorkerTimeout},
     *     {@link PoolBuilder#crashPolicy}); finish with {@link PoolBuilder#buildExecutor()}
     */
    public static PoolBuilder builder() {
        return Pool.builder();
    }
}
