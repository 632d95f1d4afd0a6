package io.multiproc4j.internal.worker;

import io.multiproc4j.SerializableFunction;
import java.util.List;

/**
 * The batch loop with no state of its own: {@link BatchLoop} defines a hidden copy of these bytes
 * per function class, and every copy runs this code with a profile of its own.
 */
final class BatchLoopTemplate {
    private BatchLoopTemplate() {}

    /** Applies fn to the inputs in order; see {@link BatchLoop#apply}. */
    @SuppressWarnings({"rawtypes", "unchecked"})
    static int run(SerializableFunction fn, List inputs, List results, Throwable[] failure) {
        int n = inputs.size();
        for (int i = 0; i < n; i++) {
            Object result;
            try {
                result = fn.apply(inputs.get(i));
            } catch (Throwable t) {
                failure[0] = t;
                return i;
            } finally {
                Thread.interrupted(); // one task's interrupt flag must not reach the next, nor the socket
            }
            results.add(result);
        }
        return n;
    }
}
