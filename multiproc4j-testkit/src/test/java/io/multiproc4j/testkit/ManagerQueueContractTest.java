package io.multiproc4j.testkit;

import io.multiproc4j.manager.Manager;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/** The contract against a manager's queue proxy, the manager in its own JVM. */
class ManagerQueueContractTest extends BlockingQueueContract {
    private static final AtomicInteger NAMES = new AtomicInteger();
    private static Manager manager;

    @BeforeAll
    static void start() {
        manager = Manager.start();
    }

    @AfterAll
    static void stop() {
        if (manager != null) {
            manager.close();
        }
    }

    @Override
    protected BlockingQueue<Integer> newQueue(int capacity) {
        return manager.queue("contract-" + NAMES.incrementAndGet(), capacity);
    }
}
