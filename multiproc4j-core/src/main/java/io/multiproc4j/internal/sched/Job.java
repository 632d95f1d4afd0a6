package io.multiproc4j.internal.sched;

import java.util.List;

/** One call's bookkeeping: receives what its batches report. */
interface Job {
    /** @return true when nobody wants the results any more */
    boolean isCancelled();

    /**
     * @param batch   the batch
     * @param offset  index within the batch of the first result
     * @param results the results
     */
    void onResults(BatchTask batch, int offset, List<?> results);

    /**
     * @param batch   the batch, which has ended
     * @param offset  index within the batch of the failed input
     * @param failure what happened
     */
    void onFailure(BatchTask batch, int offset, RuntimeException failure);
}
