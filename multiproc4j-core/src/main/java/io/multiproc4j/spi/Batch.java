package io.multiproc4j.spi;

import io.multiproc4j.SerializableFunction;
import io.multiproc4j.TaskFailedException;
import java.util.List;

/**
 * A chunk of one call's inputs and the function to apply to each, handed to an {@link Engine}.
 * Results are reported in input order, possibly in several {@link #deliver} calls, and end either
 * when all inputs have results or with one {@link #fail}.
 */
public interface Batch {

    /** @return the function to apply */
    SerializableFunction<Object, Object> function();

    /**
     * @return the function encoded by the pool's codec, once per call, or {@code null}: an engine
     *     that ships tasks then encodes {@link #function()} with its own codec (the process engine
     *     does, once per function id and worker)
     */
    default byte[] encodedFunction() {
        return null;
    }

    /** @return an id shared by every batch of the same call, for caching the function in workers */
    long functionId();

    /** @return the inputs of this chunk */
    List<Object> inputs();

    /**
     * @return the inputs already encoded by the pool's codec (the caller checked they travel), or
     *     {@code null} to let the engine encode them
     */
    default byte[] encodedInputs() {
        return null;
    }

    /** @return the index of {@code inputs().get(0)} among the call's inputs */
    long firstIndex();

    /** @return {@code true} when nobody wants these results any more (skip it if not started) */
    boolean isCancelled();

    /**
     * Reports results for inputs {@code offset .. offset + results.size() - 1}, which must follow
     * those reported before.
     *
     * @param offset  the index within this chunk of the first result
     * @param results the results
     */
    void deliver(int offset, List<?> results);

    /**
     * Ends the batch: the input at {@code offset} failed and the later ones will not run.
     *
     * @param offset  the index within this chunk of the failed input
     * @param failure what happened (a {@link TaskFailedException} or one of its kin,
     *                {@link java.util.concurrent.CancellationException}, or
     *                {@link io.multiproc4j.BrokenPoolException})
     */
    void fail(int offset, RuntimeException failure);
}
