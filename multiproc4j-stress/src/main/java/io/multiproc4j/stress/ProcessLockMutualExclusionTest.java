package io.multiproc4j.stress;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import io.multiproc4j.shared.SharedLong;
import io.multiproc4j.sync.ProcessLock;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.JJ_Result;

/**
 * {@link ProcessLock} makes racy read-modify-writes exact: each actor locks, increments both a plain
 * Java field and an unsynchronized {@link SharedLong} (plain get then set, the race of
 * {@link UnsynchronizedSharedLongIncrementTest}), and unlocks. The lock word's acquiring CAS and
 * releasing getAndSet must give mutual exclusion and the happens-before edge between holders.
 */
@JCStressTest
@Description("ProcessLock: lock; x = x + 1; unlock from two threads always leaves 2 (heap field and shared memory)")
@Outcome(id = "2, 2", expect = ACCEPTABLE, desc = "Both critical sections ran one after the other")
@Outcome(expect = FORBIDDEN, desc = "An update was lost: the critical sections overlapped or a write was not visible")
@State
public class ProcessLockMutualExclusionTest {
    private final ProcessLock lock = ProcessLock.create();
    private final SharedLong shared = SharedLong.createUnsynchronized(0);
    private long plain;

    private void increment() {
        lock.lock();
        try {
            plain = plain + 1;
            shared.set(shared.get() + 1);
        } finally {
            lock.unlock();
        }
    }

    /** Increments under the lock. */
    @Actor
    public void actor1() {
        increment();
    }

    /** Increments under the lock. */
    @Actor
    public void actor2() {
        increment();
    }

    /** @param r where the two counters go; also closes (and unlinks) this state's segments */
    @Arbiter
    public void arbiter(JJ_Result r) {
        r.r1 = plain;
        r.r2 = shared.get();
        shared.close();
        lock.close();
    }
}
