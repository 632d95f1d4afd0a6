package io.multiproc4j.manager;

/** A custom shared type for the tests: only these methods are reachable through a proxy. */
public interface Counter {
    /** @return the count after adding one */
    int increment();

    /** @return the count */
    int get();

    /**
     * @param why the message of the exception
     * @throws CounterException always
     */
    void fail(String why) throws CounterException;

    /** A checked exception thrown by the real object; it must arrive with its own type. */
    final class CounterException extends Exception {
        private static final long serialVersionUID = 1L;

        /** @param message the message */
        public CounterException(String message) {
            super(message);
        }
    }
}
