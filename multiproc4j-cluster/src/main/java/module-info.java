/**
 * multiproc4j on a cluster: the same {@link io.multiproc4j.Pool} on Hazelcast members on many
 * machines, shared objects that live in the cluster, and an SSH launcher for workers.
 */
@SuppressWarnings("requires-automatic") // Hazelcast ships as an automatic module
module io.multiproc4j.cluster {
    requires transitive io.multiproc4j;
    requires com.hazelcast.core;
    requires java.logging;

    exports io.multiproc4j.cluster;
}
