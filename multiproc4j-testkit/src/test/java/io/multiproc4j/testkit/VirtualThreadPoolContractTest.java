package io.multiproc4j.testkit;

import io.multiproc4j.Pool;

class VirtualThreadPoolContractTest extends PoolContract {
    @Override
    protected Pool createPool(int workers) {
        return Pool.virtualThreads();
    }
}
