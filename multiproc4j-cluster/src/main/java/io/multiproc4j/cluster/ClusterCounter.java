package io.multiproc4j.cluster;

import com.hazelcast.map.IMap;
import io.multiproc4j.cluster.internal.CounterUpdate;

/**
 * An atomic {@code long} in the cluster: each update runs as an entry processor on the member that
 * owns the entry, so concurrent updates from any number of clients are never lost.
 */
public final class ClusterCounter {
    private final IMap<String, Long> counters;
    private final String key;

    ClusterCounter(IMap<String, Long> counters, String key) {
        this.counters = counters;
        this.key = key;
    }

    /** @return the value */
    public long get() {
        Long v = counters.get(key);
        return v == null ? 0 : v;
    }

    /**
     * @param delta what to add
     * @return the value after it
     */
    public long addAndGet(long delta) {
        return counters.executeOnKey(key, new CounterUpdate(delta));
    }

    /** @return the value after adding 1 */
    public long incrementAndGet() {
        return addAndGet(1);
    }
}
