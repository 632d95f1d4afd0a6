package io.multiproc4j.cluster.internal;

import com.hazelcast.map.EntryProcessor;
import com.hazelcast.nio.ObjectDataInput;
import com.hazelcast.nio.ObjectDataOutput;
import com.hazelcast.nio.serialization.IdentifiedDataSerializable;
import java.io.IOException;
import java.util.Map;

/** Adds a delta to a counter entry on the member that owns it; data-serializable, so no Java serialization. */
public final class CounterUpdate implements EntryProcessor<String, Long, Long>, IdentifiedDataSerializable {
    @java.io.Serial
    private static final long serialVersionUID = 1L;

    private long delta;

    /** For Hazelcast. */
    public CounterUpdate() {}

    /** @param delta what to add */
    public CounterUpdate(long delta) {
        this.delta = delta;
    }

    @Override
    public Long process(Map.Entry<String, Long> entry) {
        long next = (entry.getValue() == null ? 0 : entry.getValue()) + delta;
        entry.setValue(next);
        return next;
    }

    @Override
    public int getFactoryId() {
        return Wire.FACTORY_ID;
    }

    @Override
    public int getClassId() {
        return Wire.COUNTER;
    }

    @Override
    public void writeData(ObjectDataOutput out) throws IOException {
        out.writeLong(delta);
    }

    @Override
    public void readData(ObjectDataInput in) throws IOException {
        delta = in.readLong();
    }
}
