package io.multiproc4j.stress;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import io.multiproc4j.shared.SharedLong;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.JJJ_Result;

/**
 * Two concurrent {@link SharedLong#incrementAndGet()} on an atomic shared long: no update is lost,
 * and the two actors see distinct values (1 and 2 in some order).
 */
@JCStressTest
@Description("SharedLong.incrementAndGet is atomic: two increments give 2, each returns a distinct value")
@Outcome(id = {"1, 2, 2", "2, 1, 2"}, expect = ACCEPTABLE, desc = "Both increments applied, in either order")
@Outcome(id = ".*, .*, 1", expect = FORBIDDEN, desc = "An increment was lost")
@Outcome(id = {"1, 1, .*", "2, 2, .*"}, expect = FORBIDDEN, desc = "Both increments read the same old value")
@Outcome(expect = FORBIDDEN, desc = "Anything else is broken")
@State
public class SharedLongIncrementTest {
    private final SharedLong counter = SharedLong.create(0);

    /** @param r where the first actor's result goes */
    @Actor
    public void actor1(JJJ_Result r) {
        r.r1 = counter.incrementAndGet();
    }

    /** @param r where the second actor's result goes */
    @Actor
    public void actor2(JJJ_Result r) {
        r.r2 = counter.incrementAndGet();
    }

    /** @param r where the final value goes; also closes (and unlinks) this state's segment */
    @Arbiter
    public void arbiter(JJJ_Result r) {
        r.r3 = counter.get();
        counter.close();
    }
}
