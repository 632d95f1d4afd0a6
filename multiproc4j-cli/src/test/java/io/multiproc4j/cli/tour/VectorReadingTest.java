package io.multiproc4j.cli.tour;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The sentence under the vector tables follows the figures, whichever way they fall. */
class VectorReadingTest {
    @Test
    void everyParallelRunSlower_saysTheWorkIsTooFineGrained() {
        String s = VectorExperiment.interpret("x + 1", 2.0, 20, 0.6, 0.1, 2, 2);
        assertThat(s).startsWith("Every parallel run is slower than the plain loop (20 ms)").contains("2.0 ns")
                .contains("too fine-grained");
    }

    @Test
    void threadsWinProcessesLose_saysShippingCostsMoreThanTheWork() {
        String s = VectorExperiment.interpret("x + 1", 20, 20, 1.8, 0.4, 2, 2);
        assertThat(s).startsWith("Threads gain 1.80x but worker processes lose (best 0.40x)");
    }

    @Test
    void bothWin_namesTheBestProcessCount_andTheCores() {
        String s = VectorExperiment.interpret("heavy(x)", 400, 400, 1.9, 1.85, 2, 2);
        assertThat(s).contains("2 worker processes run 1.85x faster").contains("threads: 1.90x").contains("2 usable cores");
    }
}
