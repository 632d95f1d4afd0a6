package io.multiproc4j.manager;

/** What a malicious client would claim the object is, to reach {@link CounterImpl#reset()}. */
public interface ResettableCounter extends Counter {
    /** Not registered: the manager must refuse it. */
    void reset();
}
