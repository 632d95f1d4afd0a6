package io.multiproc4j.cluster.internal;

import io.multiproc4j.cluster.ClusterWorker;
import java.util.List;

/** Reaches {@link ClusterWorker}'s package-private start (raw cluster name) from {@link WorkerMain}. */
public final class Members {
    private static volatile Starter starter;

    private Members() {}

    /** What ClusterWorker registers. */
    public interface Starter {
        /**
         * @see ClusterWorker#start(List, String, byte[], String, int, int, boolean)
         */
        ClusterWorker start(List<String> join, String cluster, byte[] key, String bind, int port, int capacity,
                            boolean processes, String rawName);
    }

    /** @param s the starter */
    public static void register(Starter s) {
        starter = s;
    }

    static ClusterWorker start(List<String> join, String cluster, byte[] key, String bind, int port, int capacity,
                               boolean processes, String rawName) {
        if (rawName == null) {
            return ClusterWorker.start(join, cluster, key, bind, port, capacity, processes);
        }
        try {
            Class.forName(ClusterWorker.class.getName(), true, ClusterWorker.class.getClassLoader());
        } catch (ClassNotFoundException e) {
            throw new IllegalStateException(e);
        }
        return starter.start(join, cluster, key, bind, port, capacity, processes, rawName);
    }
}
