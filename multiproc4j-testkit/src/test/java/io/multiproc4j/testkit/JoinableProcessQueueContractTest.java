package io.multiproc4j.testkit;

import io.multiproc4j.ipc.JoinableProcessQueue;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import org.junit.jupiter.api.AfterEach;

/** {@link BlockingQueueContract} bound to {@link JoinableProcessQueue}: it is a queue first. */
class JoinableProcessQueueContractTest extends BlockingQueueContract {
    private final List<JoinableProcessQueue<Integer>> created = new ArrayList<>();

    @Override
    protected BlockingQueue<Integer> newQueue(int capacity) {
        JoinableProcessQueue<Integer> queue = JoinableProcessQueue.create(capacity > 0 ? capacity : 1_024);
        created.add(queue);
        return queue;
    }

    @AfterEach
    void closeQueues() {
        created.forEach(JoinableProcessQueue::close);
    }
}
