package io.multiproc4j.cli.tour;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Every section's reading follows its figures: each is fed the outcomes that exist (faster, the same,
 * slower, noisy or surprising), so no future change can bring back a sentence its numbers contradict.
 */
class TourReadingsTest {
    @Test
    void readings_bandOfNoise_isFifteenPercent() {
        assertThat(Readings.of(1.2)).isEqualTo(Readings.Outcome.FASTER);
        assertThat(Readings.of(1.1)).isEqualTo(Readings.Outcome.SAME);
        assertThat(Readings.of(0.9)).isEqualTo(Readings.Outcome.SAME);
        assertThat(Readings.of(0.8)).isEqualTo(Readings.Outcome.SLOWER);
        assertThat(Readings.noisy(new double[] {10, 11, 12})).isFalse();
        assertThat(Readings.noisy(new double[] {10, 20})).isTrue();
        assertThat(Readings.times(1.234)).isEqualTo("1.23x");
        assertThat(Readings.times(12.3)).isEqualTo("12x");
        assertThat(Readings.times(1234)).isEqualTo("1,234x");
        assertThat(Readings.and(List.of("a"))).isEqualTo("a");
        assertThat(Readings.and(List.of("a", "b"))).isEqualTo("a and b");
        assertThat(Readings.and(List.of("a", "b", "c"))).isEqualTo("a, b and c");
    }

    @Test
    void race_lostUpdates_explainsTheLoss() {
        String s = SharedCounterExperiment.interpretRace(400_000, 390_000, 0.68);
        assertThat(s).contains("10,000 of 400,000 updates were lost (2.5 %)").contains("68 %")
                .contains("both wrote it plus one");
    }

    @Test
    void race_noOverlap_saysTheRaceNeverRan_notThatUpdatesWereLost() {
        String s = SharedCounterExperiment.interpretRace(200_000, 200_000, 0);
        assertThat(s).contains("no update was lost").contains("never ran at the same time")
                .doesNotContain("both wrote it plus one");
    }

    @Test
    void race_overlapButNoLoss_saysWhyAndThatItIsStillARace() {
        String s = SharedCounterExperiment.interpretRace(200_000, 200_000, 0.4);
        assertThat(s).contains("no update was lost").contains("overlapped for 40 %").contains("still a race")
                .doesNotContain("both wrote it plus one");
    }

    @Test
    void sync_atomicFaster_same_orSlower_eachSaidAsMeasured() {
        var exactSlowLock = new SharedCounterExperiment.Outcome(100, 0.9, 100);
        var exactFastAtomic = new SharedCounterExperiment.Outcome(100, 0.9, 10);
        assertThat(SharedCounterExperiment.interpretSync(100, exactSlowLock, exactFastAtomic))
                .contains("both kept the count exact").contains("10x faster");
        var sameAtomic = new SharedCounterExperiment.Outcome(100, 0.9, 95);
        assertThat(SharedCounterExperiment.interpretSync(100, exactSlowLock, sameAtomic))
                .contains("about the same time").doesNotContain("faster than taking");
        var slowAtomic = new SharedCounterExperiment.Outcome(100, 0.9, 300);
        assertThat(SharedCounterExperiment.interpretSync(100, exactSlowLock, slowAtomic))
                .contains("surprisingly the lock was faster");
        var lossyLock = new SharedCounterExperiment.Outcome(99, 0.9, 100);
        assertThat(SharedCounterExperiment.interpretSync(100, lossyLock, exactFastAtomic)).contains("defect");
    }

    @Test
    void queueVsPipe_noConstantPythonFigure_andEveryOutcome() {
        assertThat(QueueVsPipeExperiment.interpret(50_000, 250_000)).contains("5.00x as many")
                .doesNotContain("Python");
        assertThat(QueueVsPipeExperiment.interpret(100_000, 105_000)).contains("about as many");
        assertThat(QueueVsPipeExperiment.interpret(200_000, 100_000)).startsWith("Surprisingly the queue");
        assertThat(QueueVsPipeExperiment.pythonReading(40_000, 250_000, 20_000, 25_000))
                .contains("Queue 20,000 messages/s (ours 2.00x as many)").contains("Pipe 25,000 messages/s (ours 10x");
        assertThat(QueueVsPipeExperiment.relative(10, 20)).isEqualTo("0.50x as many");
    }

    @Test
    void ioBound_threadsOverlapWaits_orSurprisinglyDoNot() {
        String s = IoBoundExperiment.interpret(32, 10, 2, new double[] {330, 170, 15, 14, 175});
        assertThat(s).contains("took 330 ms").contains("made them wait together")
                .contains("did about as well").contains("only a more expensive thread");
        String none = IoBoundExperiment.interpret(32, 10, 2, new double[] {330, 320, 310, 300, 400});
        assertThat(none).contains("Surprisingly, neither").contains("slower than as many threads");
        String virtualFaster = IoBoundExperiment.interpret(32, 10, 2, new double[] {330, 170, 60, 14, 175});
        assertThat(virtualFaster).contains("Virtual threads were 4.29x faster");
        String platformFaster = IoBoundExperiment.interpret(32, 10, 2, new double[] {800, 650, 86, 286, 443});
        assertThat(platformFaster).contains("Platform threads were 3.33x faster");
    }

    @Test
    void gilPoint_javaThreadsComputeInParallel_pythonsDoNot() {
        assertThat(IoBoundExperiment.interpretCpu(1.9, 2)).contains("ran 1.90x faster").contains("no global interpreter lock");
        assertThat(IoBoundExperiment.interpretCpu(1.05, 2)).contains("only 1.05x").contains("cores themselves were busy");
        assertThat(IoBoundExperiment.interpretCpu(0.7, 2)).contains("slower than the loop");
        assertThat(IoBoundExperiment.interpretCpu(1.0, 1)).contains("one core");
        assertThat(IoBoundExperiment.interpretPython(4, 0.55, 1.9, 2))
                .contains("sped its blocking calls up 4.00x").contains("0.55x, against Java's 1.90x").contains("GIL");
        assertThat(IoBoundExperiment.interpretPython(1.0, 1.9, 1.9, 2))
                .contains("did not speed its blocking calls up").contains("free-threaded");
    }

    @Test
    void mapImap_headOfLineBlocking_andUnorderedStreaming() {
        String s = MapImapExperiment.interpret(new double[] {450, 450, 450}, new double[] {45, 420, 440},
                new double[] {45, 130, 445}, 400);
        assertThat(s).contains("map gave nothing until everything was done (450 ms)")
                .contains("held back every result after it").contains("3.23x sooner than imap")
                .contains("about the same time");
        String slowStart = MapImapExperiment.interpret(new double[] {450, 450, 450}, new double[] {430, 440, 450},
                new double[] {420, 430, 700}, 400);
        assertThat(slowStart).contains("no better than map").contains("no sooner than imap")
                .contains("The last results came at");
    }

    @Test
    void managerVsShared_proxyCostsARoundTrip_orTheFigureIsSuspect() {
        assertThat(ManagerVsSharedExperiment.interpret(60, 55, 0.01, 0.01, 900)).contains("6,000x less")
                .contains("A get costs about the same round trip").contains("900 ms to start");
        assertThat(ManagerVsSharedExperiment.interpret(430, 140, 0.06, 0.01, 3000)).contains("A get took 140.0 µs")
                .doesNotContain("about the same");
        assertThat(ManagerVsSharedExperiment.interpret(0.01, 0.01, 0.01, 0.01, 900)).startsWith("Surprisingly");
    }

    @Test
    void pipeTrap_kernelBuffersDiffer_orAgree_andOursEqual_orDefect() {
        String s = PipeTrapExperiment.interpret(212_992, 65_536, 4_000_000, 4_000_000);
        assertThat(s).contains("3.25x apart").contains("works with Pipe(duplex=True) and blocks for ever with"
                + " Pipe(duplex=False)").contains("both took 4,000,000 bytes");
        String same = PipeTrapExperiment.interpret(65_536, 65_536, 4_000_000, 4_000_000);
        assertThat(same).contains("about alike").contains("happens not to matter here");
        String reversed = PipeTrapExperiment.interpret(65_536, 1_048_576, 4_000_000, 4_000_000);
        assertThat(reversed).contains("works with Pipe(duplex=False) and blocks for ever with Pipe(duplex=True)");
        assertThat(PipeTrapExperiment.interpret(212_992, 65_536, 4_000_000, 3_000_000)).contains("defect");
    }

    @Test
    void stopping_eachWay_saysWhatHappened() {
        String s = StoppingExperiment.interpret(true, true, 420, 300, true, 2.5);
        assertThat(s).contains("Thread.stop() threw").contains("after 420 ms").contains("killed and replaced")
                .contains("never reached the worker").contains("2.5 ms");
        String odd = StoppingExperiment.interpret(false, false, 420, 300, false, 2.5);
        assertThat(odd).contains("did not throw").contains("defect").doesNotContain("never reached");
    }

    @Test
    void asyncParallel_faster_same_slower() {
        assertThat(AsyncParallelExperiment.interpret(16, 20, 10, 480, 100, 2)).contains("4.80x faster")
                .contains("the 16 waits overlapped");
        // parts measured apart that add up to more than the whole are not called its sum
        assertThat(AsyncParallelExperiment.interpret(16, 20, 30.7, 584, 313, 2))
                .contains("took 584 ms (the waits alone add up to 320 ms, and parsing every document, timed apart,"
                        + " to 491 ms)").doesNotContain("plus");
        assertThat(AsyncParallelExperiment.interpret(16, 20, 10, 480, 450, 2)).contains("about the")
                .contains("cores were busy");
        assertThat(AsyncParallelExperiment.interpret(16, 20, 10, 480, 900, 2)).contains("was slower")
                .contains("did not get free cores");
        assertThat(AsyncParallelExperiment.interpret(16, 20, 0.2, 330, 400, 2)).contains("was slower")
                .contains("shipping it to a worker costs more");
    }

    @Test
    void oversubscription_slower_same_orFaster() {
        assertThat(OversubscriptionExperiment.interpret(2, 16, 1.0, 1.54)).contains("take turns")
                .contains("+0 % to +54 %");
        assertThat(OversubscriptionExperiment.interpret(2, 16, 0.97, 1.05)).contains("within the noise");
        assertThat(OversubscriptionExperiment.interpret(2, 16, 0.7, 1.0)).contains("did not get every core");
    }

    @Test
    void hyperThreading_gain_none_orLoss() {
        assertThat(HyperThreadingExperiment.interpret(1.25, 2)).contains("gave 1.25x").contains("far from the 2x");
        assertThat(HyperThreadingExperiment.interpret(1.9, 2)).contains("close to the 2x");
        assertThat(HyperThreadingExperiment.interpret(1.0, 2)).contains("about nothing");
        assertThat(HyperThreadingExperiment.interpret(0.8, 2)).contains("was slower");
    }

    @Test
    void cluster_fasterThanTheLoop_andLikeProcesses() {
        String r = ClusterExperiment.interpret(1.8, 1.85, 2500, 900, List.of());
        assertThat(r).contains("ran 1.80x faster than the plain loop").contains("about what Pool.processes(2) gave")
                .contains("2,500 ms").contains("adds no cores").doesNotContain("slower");
    }

    @Test
    void cluster_slowerThanTheLoop_saysSo_andNeverCallsItFaster() {
        String r = ClusterExperiment.interpret(0.20, 0.48, 19_167, 47, List.of());
        assertThat(r).contains("was 5.00x slower than the plain loop (0.20x)").contains("47 ms of work")
                .contains("Pool.processes(2) did 2.40x better").doesNotContain("faster than the plain loop");
    }

    @Test
    void cluster_likeTheLoop_orBetterThanProcesses() {
        assertThat(ClusterExperiment.interpret(1.05, 1.0, 3000, 500, List.of())).contains("about as fast as the plain loop")
                .contains("about what Pool.processes(2) gave");
        String better = ClusterExperiment.interpret(1.9, 1.3, 3000, 500, List.of());
        assertThat(better).contains("1.46x better than Pool.processes(2)").contains("noise")
                .doesNotContain("adds no cores");
        assertThat(ClusterExperiment.skippedNote()).startsWith("Skipped").contains("multiproc4j-cluster");
    }

    @Test
    void cluster_startedInTheBackground_saysDuringWhichSections_andThatTheCoresWereShared() {
        String r = ClusterExperiment.interpret(1.8, 1.85, 4200, 900, List.of("deadlock", "stopping"));
        assertThat(r).contains("started in the background while the deadlock and stopping sections ran")
                .contains("4,200 ms, on cores shared with whatever else ran then").contains("waited for them before any timing")
                .doesNotContain("with nothing else");
        String one = ClusterExperiment.interpret(1.8, 1.85, 3100, 900, List.of("stopping"));
        assertThat(one).contains("while the stopping section ran (the tour");
        assertThat(ClusterExperiment.interpret(1.8, 1.85, 3100, 900, List.of()))
                .contains("Starting the two members and waiting for them to join took 3,100 ms")
                .doesNotContain("background");
    }

    @Test
    void backgroundNote_namesTheStartingSections_andWhatItMeansForTimes() {
        assertThat(Tour.backgroundNote(List.of("cluster"))).contains("the later cluster section were starting")
                .contains("does not depend on idle cores").contains("sharing the cores");
        assertThat(Tour.backgroundNote(List.of("cluster", "server"))).contains("cluster and server sections were");
    }

    @Test
    void server_moreWorkers_faster_same_orSlower() {
        assertThat(ServerExperiment.interpret(500, 950, 2, 2, 0.52, List.of())).contains("1.90x").contains("compute on several")
                .contains("close to an even share");
        assertThat(ServerExperiment.interpret(500, 520, 2, 2, 0.5, List.of())).contains("about as many").contains("1.04x");
        assertThat(ServerExperiment.interpret(500, 300, 2, 2, 0.5, List.of())).contains("fewer requests/s than one");
        assertThat(ServerExperiment.skippedNote()).startsWith("Skipped").contains("multiproc4j-server");
    }

    @Test
    void server_startedInTheBackground_saysSo_andThatOnlyRequestsWereTimed() {
        String r = ServerExperiment.interpret(500, 950, 2, 2, 0.52, List.of("deadlock", "stopping"));
        assertThat(r).contains("1.90x").contains("started in the background while the deadlock and stopping sections")
                .contains("the 2-worker one waited idle").contains("only the requests were timed");
        assertThat(ServerExperiment.interpret(500, 950, 2, 2, 0.52, List.of())).doesNotContain("background");
    }

    @Test
    void server_unevenLoad_isNamed_andUnknownBalance_isLeftOut() {
        assertThat(ServerExperiment.interpret(400, 480, 2, 2, 0.82, List.of())).contains("uneven").contains("82 %");
        assertThat(ServerExperiment.interpret(267, 352, 2, 2, 0.738, List.of())).contains("uneven").contains("74 %")
                .doesNotContain("even share");
        assertThat(ServerExperiment.interpret(267, 352, 4, 4, 0.30, List.of())).contains("close to an even share");
        assertThat(ServerExperiment.interpret(400, 480, 2, 2, Double.NaN, List.of())).doesNotContain("uneven")
                .doesNotContain("share");
    }

    @Test
    void recommendation_followsTheMeasuredGains() {
        assertThat(RecommendationExperiment.interpret(2, 2, 1.9, 1.95, 9.0)).contains("2 usable cores")
                .contains("9.0x on virtual threads").contains("1.90x faster on 2 worker processes");
        assertThat(RecommendationExperiment.interpret(2, 2, 1.02, 1.0, 1.0)).contains("gained nothing")
                .contains("Waiting did not overlap");
        assertThat(RecommendationExperiment.interpret(1, 1, 1.0, 1.0, 8)).contains("cannot run faster on any pool");
        assertThat(RecommendationExperiment.cpuAdvice(2, 1.0, 1.0)).startsWith("no gain measured");
        assertThat(RecommendationExperiment.cpuAdvice(2, 1.9, 1.9)).contains("Pool.threads(2)");
        assertThat(RecommendationExperiment.ioAdvice(8)).contains("virtual threads");
    }

    @Test
    void deadlock_readingNamesProcessesAndThreads() {
        assertThat(DeadlockExperiment.interpret(2, 2, 380)).contains("2 threads in 2 processes")
                .contains("found 380 ms").contains("multiproc deadlocks");
    }
}
