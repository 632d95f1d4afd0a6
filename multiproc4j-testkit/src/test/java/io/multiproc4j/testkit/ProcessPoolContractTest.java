package io.multiproc4j.testkit;

import io.multiproc4j.Pool;

class ProcessPoolContractTest extends PoolContract {
    @Override
    protected Pool createPool(int workers) {
        return Pool.processes(workers);
    }
}
