package io.multiproc4j.server;

/** What a {@link ServerApp} running in a worker JVM sees of its supervisor. */
public interface WorkerContext {
    /** @return true once this worker must stop accepting (reload, recycle, scale down, close) */
    boolean isStopping();

    /**
     * Counts one request: towards {@code maxRequestsPerWorker} and the {@link Supervisor#workers()}
     * table.
     */
    void requestServed();

    /** @return this worker's name, such as {@code worker-3} */
    String workerName();
}
