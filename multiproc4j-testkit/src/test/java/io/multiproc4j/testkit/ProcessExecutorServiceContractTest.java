package io.multiproc4j.testkit;

import io.multiproc4j.ProcessPoolExecutor;
import io.multiproc4j.TaskExecutor;

/** The ExecutorService contract on worker JVMs. */
class ProcessExecutorServiceContractTest extends ExecutorServiceContract {
    @Override
    protected TaskExecutor createExecutor(int workers) {
        return ProcessPoolExecutor.create(workers);
    }
}
