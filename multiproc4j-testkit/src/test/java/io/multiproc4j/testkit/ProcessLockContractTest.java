package io.multiproc4j.testkit;

import io.multiproc4j.sync.ProcessLock;
import java.util.concurrent.locks.Lock;

/** {@link LockContract} bound to {@link ProcessLock}. */
class ProcessLockContractTest extends LockContract {
    @Override
    protected Lock newLock() {
        return ProcessLock.create();
    }

    @Override
    protected boolean isReentrant() {
        return false;
    }
}
