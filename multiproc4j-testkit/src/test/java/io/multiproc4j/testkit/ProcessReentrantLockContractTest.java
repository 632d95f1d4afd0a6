package io.multiproc4j.testkit;

import io.multiproc4j.sync.ProcessReentrantLock;
import java.util.concurrent.locks.Lock;

/** {@link LockContract} bound to {@link ProcessReentrantLock}. */
class ProcessReentrantLockContractTest extends LockContract {
    @Override
    protected Lock newLock() {
        return ProcessReentrantLock.create();
    }

    @Override
    protected boolean isReentrant() {
        return true;
    }
}
