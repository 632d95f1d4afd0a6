package io.multiproc4j.testkit;

import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;

/** The contract against the JDK's bounded array queue, the closest JDK relative of {@code ProcessQueue}. */
class JdkArrayBlockingQueueContractTest extends BlockingQueueContract {
    @Override
    protected BlockingQueue<Integer> newQueue(int capacity) {
        return new ArrayBlockingQueue<>(capacity > 0 ? capacity : 1_024);
    }
}
