package io.multiproc4j.cluster.internal;

/**
 * A member's record of the task nonces it has accepted, so that a signed task recorded on the wire
 * and sent again is refused rather than run twice. Memory is bounded: at most two generations of
 * {@value #GENERATION} nonces are kept, and a task is judged only if it is recent enough to be in
 * the record:
 *
 * <pre>
 *  issuedAt (signed, in this member's clock as the client estimates it)
 *    older than now − WINDOW, newer than now + SKEW, or not newer than the floor ─► STALE (the client re-signs)
 *    nonce in the record ─► REPLAY (refused)
 *    else ─► recorded, FRESH (run)
 *  current generation full ─► floor := the newest issuedAt of the generation dropped; previous := current
 * </pre>
 *
 * Every nonce issued after the floor is still in the record, so a replay is either found or stale;
 * a legitimate task is never run twice, and one judged stale (it waited behind long chunks, or the
 * client's clock differs) is sent again by the client with a fresh nonce and this member's time,
 * which the STALE reply carries. Thread-safe (synchronized: a check is a few array probes).
 */
final class ReplayGuard {
    /** How old a task may be, by its signed issue time, and still run. */
    static final long WINDOW_MILLIS = 10 * 60_000L;
    /** How far ahead of this member's clock a task's issue time may be. */
    static final long SKEW_MILLIS = 60_000L;
    /** Nonces per generation; two generations of open-addressing tables take 4 MiB. */
    static final int GENERATION = 1 << 17;

    /** What a task is. */
    enum Verdict { FRESH, REPLAY, STALE }

    private Generation current = new Generation();
    private Generation previous = new Generation();
    private long floor = Long.MIN_VALUE;

    /**
     * @param nonce    the task's nonce
     * @param issuedAt the task's signed issue time, epoch millis in this member's clock
     * @param now      this member's clock, epoch millis
     * @return what to do with it; FRESH records it
     */
    synchronized Verdict check(long nonce, long issuedAt, long now) {
        if (issuedAt < now - WINDOW_MILLIS || issuedAt > now + SKEW_MILLIS || issuedAt <= floor) {
            return Verdict.STALE;
        }
        if (current.contains(nonce) || previous.contains(nonce)) {
            return Verdict.REPLAY;
        }
        if (current.size == GENERATION) {
            floor = Math.max(floor, previous.newest);
            previous = current;
            current = new Generation();
        }
        current.add(nonce, issuedAt);
        return Verdict.FRESH;
    }

    /** An open-addressing set of longs (linear probing, never removed from: dropped whole). */
    private static final class Generation {
        private final long[] slots = new long[GENERATION * 2];
        private boolean hasZero;
        int size;
        long newest = Long.MIN_VALUE;

        boolean contains(long nonce) {
            if (nonce == 0) {
                return hasZero;
            }
            int mask = slots.length - 1;
            for (int i = mix(nonce) & mask; ; i = (i + 1) & mask) {
                long v = slots[i];
                if (v == nonce) {
                    return true;
                }
                if (v == 0) {
                    return false;
                }
            }
        }

        void add(long nonce, long issuedAt) {
            size++;
            newest = Math.max(newest, issuedAt);
            if (nonce == 0) {
                hasZero = true;
                return;
            }
            int mask = slots.length - 1;
            int i = mix(nonce) & mask;
            while (slots[i] != 0) {
                i = (i + 1) & mask;
            }
            slots[i] = nonce;
        }

        private static int mix(long v) {
            long h = v * 0x9E3779B97F4A7C15L;
            return (int) (h ^ (h >>> 32));
        }
    }
}
