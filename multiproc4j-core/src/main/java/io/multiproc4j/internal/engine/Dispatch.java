package io.multiproc4j.internal.engine;

import io.multiproc4j.TaskFailedException;
import io.multiproc4j.spi.Batch;
import io.multiproc4j.spi.Codec;
import java.io.IOException;
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
     * A worker ran it and died (a retry, or a batch run again because its worker was killed for
     * another one): it started, so shutdownNow does not hand it back as never started.
     */
    boolean startedBefore;
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

    /**
     * Encodes a batch for worker JVMs, on the caller's thread, before it is queued: an encode that
     * threw under the engine's lock, at assignment, would leave the batch held by a worker it was
     * never sent to. A batch that cannot travel (an input or the function not serializable, a
     * chunk above the frame limit) is failed here, naming what and how to fix it.
     *
     * @param batch         the batch
     * @param codec         the engine's codec
     * @param maxInputBytes the largest encoded chunk a frame holds
     * @return the dispatch, or null when the batch was failed
     */
    static Dispatch encode(Batch batch, Codec codec, int maxInputBytes) {
        Dispatch d = new Dispatch(batch, batch.inputs(), 0);
        d.inputBytes = batch.encodedInputs();
        if (d.inputBytes == null) {
            try {
                d.inputBytes = codec.encode(d.inputs);
            } catch (IOException | RuntimeException e) {
                failUnencodable(batch, codec, e);
                return null;
            }
        }
        try {
            d.functionBytes = functionBytes(batch, codec);
        } catch (IOException | RuntimeException e) {
            var cause = new IllegalArgumentException("the function cannot be sent to worker JVMs: " + e
                    + "; capture only Serializable values", e);
            batch.fail(0, new TaskFailedException(cause.getMessage(), cause, batch.firstIndex(), null));
            return null;
        }
        if (d.inputBytes.length > maxInputBytes) {
            var cause = new IllegalArgumentException("a chunk of " + d.inputs.size() + " inputs encodes to "
                    + d.inputBytes.length + " bytes, above the limit of " + maxInputBytes + " per chunk: pass a smaller chunkSize");
            batch.fail(0, new TaskFailedException(cause.getMessage(), cause, batch.firstIndex(), null));
            return null;
        }
        return d;
    }

    /** The function's bytes in this engine's codec: the pool's encoding of it, or ours. */
    @SuppressWarnings("deprecation")
    private static byte[] functionBytes(Batch batch, Codec codec) throws IOException {
        byte[] bytes = batch.encodedFunction();
        return bytes != null ? bytes : codec.encode(batch.function());
    }

    /** Finds the input that cannot be encoded and fails the batch there, naming its class. */
    private static void failUnencodable(Batch batch, Codec codec, Exception whole) {
        List<Object> inputs = batch.inputs();
        for (int i = 0; i < inputs.size(); i++) {
            Object input = inputs.get(i);
            try {
                codec.encode(input);
            } catch (IOException | RuntimeException e) {
                String type = input == null ? "null" : input.getClass().getName();
                var cause = new IllegalArgumentException("input " + (batch.firstIndex() + i) + " (a " + type
                        + ") cannot be sent to a worker JVM: " + e + ". Make its class implement "
                        + "java.io.Serializable, or pass a serializable value instead.", e);
                batch.fail(i, new TaskFailedException(cause.getMessage(), cause, batch.firstIndex() + i, null));
                return;
            }
        }
        var cause = new IllegalArgumentException("the inputs cannot be sent to a worker JVM: " + whole, whole);
        batch.fail(0, new TaskFailedException(cause.getMessage(), cause, batch.firstIndex(), null));
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
