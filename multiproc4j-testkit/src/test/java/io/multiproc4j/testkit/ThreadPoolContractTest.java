package io.multiproc4j.testkit;

import io.multiproc4j.Pool;

class ThreadPoolContractTest extends PoolContract {
    @Override
    protected Pool createPool(int workers) {
        return Pool.threads(workers);
    }
}
