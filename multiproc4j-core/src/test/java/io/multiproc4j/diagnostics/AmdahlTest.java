package io.multiproc4j.diagnostics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

class AmdahlTest {
    @Test
    void speedup_followsAmdahlsLaw() {
        assertThat(Amdahl.speedup(0.95, 64)).isCloseTo(1 / (0.05 + 0.95 / 64), within(1e-12));
        assertThat(Amdahl.speedup(0.95, 64)).isCloseTo(15.42, within(0.01));
        assertThat(Amdahl.speedup(1.0, 8)).isCloseTo(8, within(1e-12));
        assertThat(Amdahl.speedup(0.0, 8)).isCloseTo(1, within(1e-12));
        assertThat(Amdahl.limit(0.95)).isCloseTo(20, within(1e-9));
    }

    @Test
    void gustafson_growsLinearly() {
        assertThat(Amdahl.gustafson(0.95, 64)).isCloseTo(0.05 + 0.95 * 64, within(1e-12));
    }

    @Test
    void karpFlatt_recoversTheSerialFraction_ofAnAmdahlSpeedup() {
        for (int n : new int[] {2, 4, 16, 64}) {
            assertThat(Amdahl.karpFlatt(Amdahl.speedup(0.9, n), n)).isCloseTo(0.1, within(1e-9));
            assertThat(Amdahl.parallelFraction(Amdahl.speedup(0.9, n), n)).isCloseTo(0.9, within(1e-9));
        }
        // slower than serial: more than 100 % "serial"
        assertThat(Amdahl.karpFlatt(0.5, 2)).isGreaterThan(1);
    }

    @Test
    void badArguments_sayWhatWasWrong() {
        assertThatThrownBy(() -> Amdahl.speedup(1.5, 2)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("between 0 and 1").hasMessageContaining("1.5");
        assertThatThrownBy(() -> Amdahl.speedup(0.5, 0)).hasMessageContaining("workers must be at least 1");
        assertThatThrownBy(() -> Amdahl.karpFlatt(2, 1)).hasMessageContaining("at least 2 workers");
        assertThatThrownBy(() -> Amdahl.karpFlatt(0, 4)).hasMessageContaining("positive");
        assertThatThrownBy(() -> Amdahl.speedup(Double.NaN, 4)).isInstanceOf(IllegalArgumentException.class);
    }
}
