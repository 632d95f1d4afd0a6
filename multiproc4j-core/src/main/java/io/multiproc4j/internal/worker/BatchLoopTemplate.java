package io.multiproc4j.internal.worker;

import io.multiproc4j.SerializableFunction;
import java.util.List;

/**
 * The batch loop with no state but a counter of its own: {@link BatchLoop} defines a hidden copy of
 * these bytes per function class, and every copy runs this code with a profile (and a counter) of
 * its own. A copy's class initializer hands {@link BatchLoop} its one instance.
 *
 * <p>Why the loop runs in short blocks at first (perf: the first heavy map on a fresh pool): a
 * batch is one call with a long loop, so as one loop the JIT could compile it only on-stack (OSR)
 * in the middle of the first batch, from a profile that had never seen the loop end; the first
 * batch's last iteration then failed that compiled code's bet (an {@code unstable_if} trap at the
 * loop's exit), the code was thrown away and the next batch ran interpreted until the loop was
 * compiled again (seen with {@code -Xlog:deoptimization=debug} in every new worker's first heavy
 * map). {@link #runBlock} is called once per {@link #WARM_BLOCK} inputs until the copy has seen
 * {@link #WARM_INPUTS} of them: it reaches the JIT's invocation thresholds within the first tens of
 * thousands of inputs and is compiled as a whole method whose profile has seen its loop end. Later
 * it is called once per {@link #BLOCK} inputs: a call per 4,096 inputs costs nothing measurable,
 * and a block that began in the interpreter (its compiled code not ready yet) ends soon, so the
 * next block enters the compiled code without an on-stack replacement.
 */
final class BatchLoopTemplate implements BatchLoop.Loop {
    /** Inputs per call of {@link #runBlock} while the copy is new. */
    private static final int WARM_BLOCK = 32;
    /** Inputs per call of {@link #runBlock} once the copy has run {@link #WARM_INPUTS}. */
    private static final int BLOCK = 4_096;
    /** Inputs after which a copy's blocks are {@link #BLOCK} long. */
    private static final int WARM_INPUTS = 65_536;
    /** Inputs this copy has run in short blocks (the worker's main thread alone runs batches). */
    private int warmInputs;

    static {
        BatchLoop.defined(new BatchLoopTemplate()); // how BatchLoop gets the copy it just defined
    }

    BatchLoopTemplate() {}

    /** Applies fn to the inputs in order; see {@link BatchLoop#apply}. */
    @Override
    @SuppressWarnings("rawtypes")
    public int run(SerializableFunction fn, List inputs, List results, Throwable[] failure) {
        int n = inputs.size();
        for (int from = 0; from < n; ) {
            int block = BLOCK;
            if (warmInputs < WARM_INPUTS) {
                block = WARM_BLOCK;
                warmInputs += block;
            }
            int to = n - from > block ? from + block : n;
            int stop = runBlock(fn, inputs, results, failure, from, to);
            if (stop < to) {
                return stop;
            }
            from = to;
        }
        return n;
    }

    /** Applies fn to inputs [from, to); returns {@code to}, or the index of the input that threw. */
    @SuppressWarnings({"rawtypes", "unchecked"})
    private static int runBlock(SerializableFunction fn, List inputs, List results, Throwable[] failure,
                                int from, int to) {
        for (int i = from; i < to; i++) {
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
        return to;
    }
}
