package io.multiproc4j.stress;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import io.multiproc4j.sync.ProcessLock;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.ZZZ_Result;

/**
 * {@link ProcessLock#tryLock()} exclusivity: two threads try a free lock and keep it if they get it
 * (neither unlocks), so exactly one succeeds: never both (two holders), never neither (a free lock
 * refused; the lock word's CAS is strong and no holder is dead). The arbiter checks that the lock is
 * held afterwards, then closes the segment (closing does not need the holder).
 */
@JCStressTest
@Description("ProcessLock.tryLock: of two threads trying a free lock and keeping it, exactly one gets it")
@Outcome(id = {"true, false, true", "false, true, true"}, expect = ACCEPTABLE, desc = "Exactly one holder")
@Outcome(id = "true, true, .*", expect = FORBIDDEN, desc = "Two holders at once")
@Outcome(id = "false, false, .*", expect = FORBIDDEN, desc = "A free lock was refused to both")
@Outcome(expect = FORBIDDEN, desc = "One holder, but the lock does not read as locked")
@State
public class ProcessLockTryLockTest {
    private final ProcessLock lock = ProcessLock.create();

    /** @param r where the first actor's result goes */
    @Actor
    public void actor1(ZZZ_Result r) {
        r.r1 = lock.tryLock();
    }

    /** @param r where the second actor's result goes */
    @Actor
    public void actor2(ZZZ_Result r) {
        r.r2 = lock.tryLock();
    }

    /** @param r whether the lock is held; also closes (and unlinks) this state's segment */
    @Arbiter
    public void arbiter(ZZZ_Result r) {
        r.r3 = lock.isLocked();
        lock.close();
    }
}
