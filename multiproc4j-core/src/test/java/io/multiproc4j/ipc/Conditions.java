package io.multiproc4j.ipc;

import java.util.concurrent.Callable;

/** Small helpers for ipc tests. */
final class Conditions {
    private Conditions() {}

    /**
     * Runs code that throws checked exceptions inside a lambda that cannot.
     *
     * @param body the code
     * @param <T>  its result type
     * @return its result
     */
    static <T> T call(Callable<T> body) {
        try {
            return body.call();
        } catch (RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
