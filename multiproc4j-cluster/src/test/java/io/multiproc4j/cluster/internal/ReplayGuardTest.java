package io.multiproc4j.cluster.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.multiproc4j.cluster.internal.ReplayGuard.Verdict;
import org.junit.jupiter.api.Test;

class ReplayGuardTest {
    private static final long NOW = 1_800_000_000_000L;

    @Test
    void aNonceIsAcceptedOnce_thenEveryRepeatIsAReplay() {
        ReplayGuard guard = new ReplayGuard();
        assertThat(guard.check(42, NOW, NOW)).isEqualTo(Verdict.FRESH);
        assertThat(guard.check(42, NOW, NOW + 1)).isEqualTo(Verdict.REPLAY);
        assertThat(guard.check(42, NOW + 5, NOW + 10)).as("another issue time does not make it new").isEqualTo(Verdict.REPLAY);
        assertThat(guard.check(0, NOW, NOW)).as("nonce 0 is a nonce too").isEqualTo(Verdict.FRESH);
        assertThat(guard.check(0, NOW, NOW)).isEqualTo(Verdict.REPLAY);
    }

    @Test
    void issueTimesOutsideTheWindow_areStale_andNotRecorded() {
        ReplayGuard guard = new ReplayGuard();
        assertThat(guard.check(1, NOW - ReplayGuard.WINDOW_MILLIS - 1, NOW)).isEqualTo(Verdict.STALE);
        assertThat(guard.check(2, NOW + ReplayGuard.SKEW_MILLIS + 1, NOW)).isEqualTo(Verdict.STALE);
        assertThat(guard.check(1, NOW, NOW)).as("a stale attempt was not recorded").isEqualTo(Verdict.FRESH);
        assertThat(guard.check(3, NOW - ReplayGuard.WINDOW_MILLIS, NOW)).as("the window's edge").isEqualTo(Verdict.FRESH);
    }

    @Test
    void afterAGenerationIsForgotten_itsNoncesAreStaleNotFresh() {
        ReplayGuard guard = new ReplayGuard();
        // generation 1: nonces 1..G issued at NOW; generation 2: G+1..2G at NOW + 1; then one more drops generation 1
        for (long n = 1; n <= ReplayGuard.GENERATION; n++) {
            assertThat(guard.check(n, NOW, NOW)).isEqualTo(Verdict.FRESH);
        }
        for (long n = ReplayGuard.GENERATION + 1; n <= 2L * ReplayGuard.GENERATION; n++) {
            assertThat(guard.check(n, NOW + 1, NOW + 1)).isEqualTo(Verdict.FRESH);
        }
        assertThat(guard.check(1, NOW, NOW + 1)).as("still remembered").isEqualTo(Verdict.REPLAY);
        assertThat(guard.check(-1, NOW + 2, NOW + 2)).isEqualTo(Verdict.FRESH); // starts generation 3, forgets 1
        assertThat(guard.check(1, NOW, NOW + 2)).as("forgotten, but issued before the floor").isEqualTo(Verdict.STALE);
        assertThat(guard.check(ReplayGuard.GENERATION + 5, NOW + 1, NOW + 2)).as("generation 2 is kept").isEqualTo(Verdict.REPLAY);
        assertThat(guard.check(-2, NOW + 2, NOW + 2)).as("new tasks still run").isEqualTo(Verdict.FRESH);
    }
}
