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
import org.openjdk.jcstress.infra.results.ZZJ_Result;

/**
 * Two {@link SharedLong#compareAndSet} from 0 to different values: exactly one wins, and the value
 * left is the winner's.
 */
@JCStressTest
@Description("SharedLong.compareAndSet: of two CAS(0 -> x), exactly one succeeds and its value stays")
@Outcome(id = "true, false, 1", expect = ACCEPTABLE, desc = "The first actor won")
@Outcome(id = "false, true, 2", expect = ACCEPTABLE, desc = "The second actor won")
@Outcome(id = "true, true, .*", expect = FORBIDDEN, desc = "Both won")
@Outcome(id = "false, false, .*", expect = FORBIDDEN, desc = "Neither won")
@Outcome(expect = FORBIDDEN, desc = "The value left is not the winner's")
@State
public class SharedLongCompareAndSetTest {
    private final SharedLong value = SharedLong.create(0);

    /** @param r where the first actor's result goes */
    @Actor
    public void actor1(ZZJ_Result r) {
        r.r1 = value.compareAndSet(0, 1);
    }

    /** @param r where the second actor's result goes */
    @Actor
    public void actor2(ZZJ_Result r) {
        r.r2 = value.compareAndSet(0, 2);
    }

    /** @param r where the value left goes; also closes (and unlinks) this state's segment */
    @Arbiter
    public void arbiter(ZZJ_Result r) {
        r.r3 = value.get();
        value.close();
    }
}
