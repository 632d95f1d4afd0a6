package io.multiproc4j;

/**
 * The life of a {@link Pool}; see the state machine in {@link Pool}'s overview.
 */
public enum PoolState {
    /** Accepts and runs work. */
    RUNNING,
    /** {@link Pool#close()} was called: accepted work finishes, new work is refused. */
    CLOSING,
    /** Every worker has stopped; nothing runs and nothing is accepted. */
    TERMINATED,
    /** Workers cannot be started; every waiter was woken with a {@link BrokenPoolException}. */
    BROKEN
}
