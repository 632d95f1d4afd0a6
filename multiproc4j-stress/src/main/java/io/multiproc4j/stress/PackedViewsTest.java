package io.multiproc4j.stress;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import io.multiproc4j.shared.SharedInt;
import io.multiproc4j.shared.SharedLong;
import io.multiproc4j.shared.SharedMemory;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.IIJ_Result;

/**
 * The atomic layout of views packed into one {@link SharedMemory}: two {@link SharedInt}s sharing one
 * 8-byte word (offsets 0 and 4) and a {@link SharedLong} right after (offset 8). Each actor updates
 * its own int and the shared long at the same time; an update of one int must not tear or overwrite
 * its neighbour (the int views must use 4-byte atomics, not a wider read-modify-write), and the long
 * must count both.
 */
@JCStressTest
@Description("Views packed in one segment (ints at 0 and 4, a long at 8): neighbours' atomic updates do not interfere")
@Outcome(id = "1, 1, 2", expect = ACCEPTABLE, desc = "Every update applied to its own slot only")
@Outcome(expect = FORBIDDEN, desc = "An update was lost or landed on a neighbour")
@State
public class PackedViewsTest {
    private final SharedMemory memory = SharedMemory.create(16);
    private final SharedInt low = SharedInt.at(memory, 0);
    private final SharedInt high = SharedInt.at(memory, 4);
    private final SharedLong both = SharedLong.at(memory, 8);

    /** Updates the int at offset 0 and the long. */
    @Actor
    public void actor1() {
        low.incrementAndGet();
        both.incrementAndGet();
    }

    /** Updates the int at offset 4 and the long. */
    @Actor
    public void actor2() {
        high.incrementAndGet();
        both.incrementAndGet();
    }

    /** @param r the three values; also closes (and unlinks) this state's segment */
    @Arbiter
    public void arbiter(IIJ_Result r) {
        r.r1 = low.get();
        r.r2 = high.get();
        r.r3 = both.get();
        memory.close();
    }
}
