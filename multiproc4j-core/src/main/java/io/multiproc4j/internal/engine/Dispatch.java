package io.multiproc4j.internal.engine;

import io.multiproc4j.spi.Batch;
import io.multiproc4j.spi.Codec;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;

/** A batch on its way through this engine; retries run what its first worker did not finish. */
final class Dispatch {
    final long id;
    final Batch batch;
    List<Object> inputs;
    /** Index within the batch of {@code inputs.get(0)}. */
    int base;
    byte[] inputBytes;
    /** Results received, counted from {@code inputs.get(0)}. */
    int done;
    int attempts;
    /** The function in this engine's codec, encoded before the batch was queued (never under the lock). */
    byte[] functionBytes;
    /** Its last send carried the function's bytes (the worker did not hold it). */
    boolean carriedFunction;

    Dispatch(long id, Batch batch, List<Object> inputs, int base) {
        this.id = id;
        this.batch = batch;
        this.inputs = inputs;
        this.base = base;
    }

    int remaining() {
        return inputs.size() - done;
    }

    /** Before a retry: keeps only the inputs without results. */
    void dropDone(Codec codec) {
        if (done == 0) {
            return;
        }
        inputs = new ArrayList<>(inputs.subList(done, inputs.size()));
        base += done;
        done = 0;
        try {
            inputBytes = codec.encode(inputs);
        } catch (IOException e) {
            throw new UncheckedIOException(e); // they encoded before; a subset encodes too
        }
    }
}
