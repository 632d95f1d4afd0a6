package io.multiproc4j.testkit;

import io.multiproc4j.ThreadExecutor;
import io.multiproc4j.TaskExecutor;

/** The ExecutorService contract on a virtual thread per task (no queue: every task starts at once). */
class VirtualExecutorServiceContractTest extends ExecutorServiceContract {
    @Override
    protected TaskExecutor createExecutor(int workers) {
        return ThreadExecutor.virtual();
    }
}
