package io.multiproc4j.cli.tour;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The sentence under the vector tables follows the figures, whichever way they fall. */
class VectorReadingTest {
    @Test
    void everyParallelRunSlower_saysTheWorkIsTooFineGrained() {
        String s = VectorExperiment.interpret("x + 1", 2.0, 20, 0.6, 0.1, 2, 2, false);
        assertThat(s).startsWith("Every parallel run is slower than the plain loop (20 ms)").contains("2.0 ns")
                .contains("too fine-grained").doesNotContain("read the speed-ups as rough");
    }

    @Test
    void threadsWinProcessesLose_saysShippingCostsMoreThanTheWork() {
        String s = VectorExperiment.interpret("x + 1", 20, 20, 1.8, 0.4, 2, 2, false);
        assertThat(s).startsWith("Threads reach 1.80x but worker processes lose (best 0.40x)");
    }

    @Test
    void threadsEqualProcessesSlower_blamesTheCoresNotThreads() {
        String s = VectorExperiment.interpret("heavy(x)", 2000, 600, 0.91, 0.58, 4, 2, false);
        assertThat(s).startsWith("Neither pool beat the plain loop (threads 0.91x, processes 0.58x)")
                .doesNotContain("Threads reach");
    }

    @Test
    void nearCoreCountSpeedup_saysItApproachesTheCoreCount() {
        String s = VectorExperiment.interpret("heavy(x)", 400, 400, 1.9, 1.85, 2, 2, false);
        assertThat(s).contains("2 worker processes run 1.85x faster").contains("threads: 1.90x")
                .contains("2 usable cores").contains("approaches the core count");
    }

    @Test
    void equalToTheLoop_neverClaimsTheSpeedupApproachesTheCores() {
        // the run the issue quotes: 1.02x on Pool.processes(2)
        String s = VectorExperiment.interpret("heavy(x)", 400, 400, 1.05, 1.02, 2, 2, false);
        assertThat(s).startsWith("Worker processes ran about as fast as the loop (best 1.02x with 2 workers")
                .contains("other programs kept them busy").doesNotContain("approaches the core count");
        String threadsGained = VectorExperiment.interpret("heavy(x)", 400, 400, 1.8, 1.02, 2, 2, false);
        assertThat(threadsGained).contains("threads did reach 1.80x").contains("shipping each element");
    }

    @Test
    void partialSpeedup_saysHowFarFromTheBestItIs() {
        String s = VectorExperiment.interpret("heavy(x)", 400, 400, 1.5, 1.4, 2, 2, false);
        assertThat(s).contains("1.40x faster").contains("only 70 %").doesNotContain("approaches the core count");
    }

    @Test
    void moreThanTheCoresAllow_blamesTheBaseline_notMagic() {
        String s = VectorExperiment.interpret("heavy(x)", 12_919, 64, 23.25, 10.52, 1, 2, false);
        assertThat(s).startsWith("1 worker process ran 10.52x faster").contains("more than the 1x")
                .contains("loop's own figure was slow").doesNotContain("approaches the core count");
    }

    @Test
    void oneCore_saysNoPoolCanWin() {
        String s = VectorExperiment.interpret("heavy(x)", 400, 400, 1.0, 0.95, 1, 1, false);
        assertThat(s).contains("one core");
    }

    @Test
    void noisySamples_sayToReadTheFiguresAsRough() {
        String s = VectorExperiment.interpret("heavy(x)", 400, 400, 1.9, 1.85, 2, 2, true);
        assertThat(s).contains("spread by more than 1.5x").contains("rough");
    }

    @Test
    void pythonReading_comparesLoopsAndPools_eachWay() {
        assertThat(VectorExperiment.pythonReading(0.3, 0.2, 100, 2))
                .contains("50x slower in Python").contains("slower than Python's own loop (0.30x)");
        assertThat(VectorExperiment.pythonReading(1.0, 1.9, 30_000, 400))
                .contains("about as fast as Python's loop");
        assertThat(VectorExperiment.pythonReading(1.8, 1.9, 30_000, 400))
                .contains("runs 1.80x faster than Python's loop").contains("1.90x");
    }
}
