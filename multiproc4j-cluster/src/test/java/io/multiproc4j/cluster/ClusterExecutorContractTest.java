package io.multiproc4j.cluster;

import io.multiproc4j.TaskExecutor;
import io.multiproc4j.testkit.TaskExecutorContract;
import org.junit.jupiter.api.AfterAll;

/**
 * {@link TaskExecutorContract} on a three-member cluster (two worker members and this JVM's
 * client). An executor of {@code n} workers keeps at most {@code n} tasks in flight
 * ({@link ClusterConfig#maxInFlight}), so the others wait in this JVM, where they can be cancelled.
 */
class ClusterExecutorContractTest extends TaskExecutorContract {
    private LocalCluster cluster;

    @Override
    protected TaskExecutor createExecutor(int workers) {
        if (cluster == null) {
            cluster = LocalCluster.start(2, 2);
        }
        return ClusterPool.executor(cluster.config().maxInFlight(workers));
    }

    @AfterAll
    void stopCluster() {
        if (executor != null) {
            executor.shutdownNow();
        }
        if (cluster != null) {
            SharedCluster.closeAndCheck(cluster);
        }
    }
}
