package io.multiproc4j.cluster;

import io.multiproc4j.Pool;
import io.multiproc4j.testkit.PoolContract;
import org.junit.jupiter.api.AfterAll;

/**
 * {@link PoolContract} on a three-member cluster: two worker members (child JVMs on loopback) and
 * this JVM's client. Every pool of the class connects to the same members.
 */
class ClusterPoolContractTest extends PoolContract {
    private LocalCluster cluster;

    @Override
    protected Pool createPool(int workers) {
        if (cluster == null) {
            cluster = LocalCluster.start(2, 2);
        }
        ClusterPool pool = ClusterPool.connect(cluster.config());
        pool.awaitMembers(2, java.time.Duration.ofSeconds(60));
        return pool;
    }

    @AfterAll
    void stopCluster() {
        if (pool != null) {
            pool.terminate();
        }
        if (cluster != null) {
            SharedCluster.closeAndCheck(cluster);
        }
    }
}
