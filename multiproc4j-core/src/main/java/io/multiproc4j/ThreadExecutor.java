package io.multiproc4j;

/**
 * Creates {@link TaskExecutor}s on threads of this JVM: the same futures and toolbox as
 * {@link ProcessPoolExecutor}, without serialization. A running task is interrupted on
 * {@code cancel(true)}; a thread cannot be killed.
 */
public final class ThreadExecutor {
    private ThreadExecutor() {}

    /**
     * @param threads the number of platform threads; at least 1
     * @return a new executor
     */
    public static TaskExecutor create(int threads) {
        return Pool.builder().threads(threads).buildExecutor();
    }

    /** @return a new executor that runs each task on its own virtual thread */
    public static TaskExecutor virtual() {
        return Pool.builder().virtualThreads().buildExecutor();
    }
}
