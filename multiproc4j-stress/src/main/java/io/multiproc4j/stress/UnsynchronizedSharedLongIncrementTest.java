package io.multiproc4j.stress;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE_INTERESTING;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import io.multiproc4j.shared.SharedLong;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.J_Result;

/**
 * The race {@link SharedLong#createUnsynchronized} offers on purpose: its increment is a plain read
 * then a plain write, so two concurrent increments may leave 1. Seeing 1 here shows the race is real
 * (and that the atomic test's FORBIDDEN 1 would be caught).
 */
@JCStressTest
@Description("SharedLong.createUnsynchronized: incrementAndGet is read-then-write and may lose an update")
@Outcome(id = "2", expect = ACCEPTABLE, desc = "Both increments applied")
@Outcome(id = "1", expect = ACCEPTABLE_INTERESTING, desc = "An update was lost: the documented race")
@Outcome(expect = FORBIDDEN, desc = "Anything else is broken")
@State
public class UnsynchronizedSharedLongIncrementTest {
    private final SharedLong counter = SharedLong.createUnsynchronized(0);

    /** Increments once. */
    @Actor
    public void actor1() {
        counter.incrementAndGet();
    }

    /** Increments once. */
    @Actor
    public void actor2() {
        counter.incrementAndGet();
    }

    /** @param r where the final value goes; also closes (and unlinks) this state's segment */
    @Arbiter
    public void arbiter(J_Result r) {
        r.r1 = counter.get();
        counter.close();
    }
}
