package io.multiproc4j.testkit;

import io.multiproc4j.ThreadExecutor;
import io.multiproc4j.TaskExecutor;

/** The ExecutorService contract on a fixed set of platform threads. */
class ThreadExecutorServiceContractTest extends ExecutorServiceContract {
    @Override
    protected TaskExecutor createExecutor(int workers) {
        return ThreadExecutor.create(workers);
    }
}
