package io.multiproc4j.testkit;

import java.util.concurrent.locks.Lock;
import java.util.concurrent.locks.ReentrantLock;

/** {@link LockContract} bound to the JDK's {@link ReentrantLock}: proves the suite itself is right. */
class JdkReentrantLockContractTest extends LockContract {
    @Override
    protected Lock newLock() {
        return new ReentrantLock();
    }

    @Override
    protected boolean isReentrant() {
        return true;
    }
}
