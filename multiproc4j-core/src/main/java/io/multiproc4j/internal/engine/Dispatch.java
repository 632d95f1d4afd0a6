package io.multiproc4j.internal.engine;

import io.multiproc4j.spi.Batch;
import java.util.List;

/**
 * A batch on its way through this engine; retries run what its first worker did not finish.
 * Fields are guarded by the engine's lock.
 */
final class Dispatch {
    final Batch batch;
    List<Object> inputs;
    /** Index within the batch of {@code inputs.get(0)}. */
    int base;
    byte[] inputBytes;
    /** Results received, counted from {@code inputs.get(0)}. */
    int done;
    /** Retries so far (a worker died running it). */
    int attempts;
    /**
     * The id its latest send carried: every send (first, retry, requeue after a recall or a death)
     * takes a new one, so results and failures of an earlier send (a dead worker's reader that
     * delivers late) name an id no held dispatch has, and are dropped.
     */
    long wireId;
    /** The function in this engine's codec, encoded before the batch was queued (never under the lock). */
    byte[] functionBytes;
    /** Its last send carried the function's bytes (the worker did not hold it). */
    boolean carriedFunction;
    /** A reader is delivering results of it outside the lock: its batch sees those before anything else. */
    boolean delivering;
    /**
     * A retry whose remaining inputs are being encoded again, outside the lock: it waits in the
     * queue until they are (see {@code ProcessEngine.requeueStartedLocked}).
     */
    boolean reencoding;
    /** What its worker's exit decided while a reader was delivering: run (under the lock) once it is done. */
    Runnable afterDelivery;

    Dispatch(Batch batch, List<Object> inputs, int base) {
        this.batch = batch;
        this.inputs = inputs;
        this.base = base;
    }

    int remaining() {
        return inputs.size() - done;
    }

    /**
     * A retry starts from the first input without a result: {@code rest} are those inputs,
     * {@code bytes} their encoding (made outside the engine's lock).
     */
    void restart(List<Object> rest, byte[] bytes) {
        inputs = rest;
        base += done;
        done = 0;
        inputBytes = bytes;
    }
}
