package io.multiproc4j.testkit;

import io.multiproc4j.TaskExecutor;
import io.multiproc4j.ThreadExecutor;

class ThreadTaskExecutorContractTest extends TaskExecutorContract {
    @Override
    protected TaskExecutor createExecutor(int workers) {
        return ThreadExecutor.create(workers);
    }
}
