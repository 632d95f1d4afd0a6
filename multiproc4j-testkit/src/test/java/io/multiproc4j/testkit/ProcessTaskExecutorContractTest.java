package io.multiproc4j.testkit;

import io.multiproc4j.ProcessPoolExecutor;
import io.multiproc4j.TaskExecutor;

class ProcessTaskExecutorContractTest extends TaskExecutorContract {
    @Override
    protected TaskExecutor createExecutor(int workers) {
        return ProcessPoolExecutor.create(workers);
    }
}
