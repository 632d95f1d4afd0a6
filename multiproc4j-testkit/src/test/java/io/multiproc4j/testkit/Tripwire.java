package io.multiproc4j.testkit;

import java.io.IOException;
import java.io.ObjectInputStream;
import java.io.Serial;
import java.io.Serializable;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Counts its own deserializations: a fuzz test sends it where nothing may be deserialized (before
 * authentication) and where it must be (after, when allowed), so the count proves which happened.
 */
final class Tripwire implements Serializable {
    @Serial
    private static final long serialVersionUID = 1L;
    static final AtomicInteger READS = new AtomicInteger();
    final String note;

    Tripwire(String note) {
        this.note = note;
    }

    @Serial
    private void readObject(ObjectInputStream in) throws IOException, ClassNotFoundException {
        READS.incrementAndGet();
        in.defaultReadObject();
    }

    /** The same, but never on the manager's allowlist. */
    static final class Forbidden implements Serializable {
        @Serial
        private static final long serialVersionUID = 1L;
        static final AtomicInteger READS = new AtomicInteger();

        @Serial
        private void readObject(ObjectInputStream in) throws IOException, ClassNotFoundException {
            READS.incrementAndGet();
            in.defaultReadObject();
        }
    }
}
