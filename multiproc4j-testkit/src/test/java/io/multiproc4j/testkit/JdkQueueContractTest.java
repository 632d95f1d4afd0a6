package io.multiproc4j.testkit;

import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;

/** The contract against the JDK's own queue: proves the contract itself is right. */
class JdkQueueContractTest extends BlockingQueueContract {
    @Override
    protected BlockingQueue<Integer> newQueue(int capacity) {
        return new LinkedBlockingQueue<>(capacity > 0 ? capacity : Integer.MAX_VALUE);
    }
}
