package io.multiproc4j.testkit;

import io.multiproc4j.CrashPolicy;
import io.multiproc4j.ProcessPoolExecutor;
import io.multiproc4j.TaskExecutor;

/**
 * The ExecutorService contract on worker JVMs under the fail-fast crash policy: killing a worker to
 * cancel its task, or to stop now, is no crash, and must not break the executor.
 */
class FailFastProcessExecutorServiceContractTest extends ExecutorServiceContract {
    @Override
    protected TaskExecutor createExecutor(int workers) {
        return ProcessPoolExecutor.builder().processes(workers).crashPolicy(CrashPolicy.BREAK_EXECUTOR).buildExecutor();
    }
}
