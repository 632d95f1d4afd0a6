package io.multiproc4j.testkit;

import io.multiproc4j.ipc.ProcessQueue;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import org.junit.jupiter.api.AfterEach;

/** {@link BlockingQueueContract} bound to {@link ProcessQueue} (always bounded: "unbounded" gets 1,024). */
class ProcessQueueContractTest extends BlockingQueueContract {
    private final List<ProcessQueue<Integer>> created = new ArrayList<>();

    @Override
    protected BlockingQueue<Integer> newQueue(int capacity) {
        ProcessQueue<Integer> queue = ProcessQueue.create(capacity > 0 ? capacity : 1_024);
        created.add(queue);
        return queue;
    }

    @AfterEach
    void closeQueues() {
        created.forEach(ProcessQueue::close);
    }
}
