package io.multiproc4j.cli.tour;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.multiproc4j.cli.report.Progress;
import io.multiproc4j.diagnostics.Topology;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * The tour's early starts: a set-up started in the background is handed to the experiment that takes
 * it, with how long it took and which sections ran meanwhile; a failed start fails its taker; one that
 * nobody takes is closed with the context. Synchronized on latches, never on time.
 */
class TourContextEarlyStartTest {
    private static TourContext context() {
        return new TourContext(TourContext.Mode.TINY, Topology.detect(),
                new Progress(new PrintStream(new ByteArrayOutputStream(), true), 1));
    }

    /** Something to start: counts its closes. */
    private static final class Started implements AutoCloseable {
        final AtomicInteger closes = new AtomicInteger();

        @Override
        public void close() {
            closes.incrementAndGet();
        }
    }

    @Test
    void aStartUnderWay_isOverlappedBySections_thenTakenWithThoseSections() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        Started thing = new Started();
        try (TourContext ctx = context()) {
            ctx.startEarly("cluster", "cluster", () -> {
                assertThat(release.await(60, TimeUnit.SECONDS)).isTrue();
                return thing;
            });
            assertThat(ctx.beginOverlap("pipe-trap")).containsExactly("cluster");
            assertThat(ctx.beginOverlap("deadlock")).containsExactly("cluster");
            release.countDown();
            assertThat(ctx.awaitStarts()).isGreaterThanOrEqualTo(0);
            assertThat(ctx.beginOverlap("async-parallel")).as("nothing is starting any more").isEmpty();
            TourContext.Early<Started> early = ctx.takeEarly("cluster", Started.class);
            assertThat(early.value()).isSameAs(thing);
            assertThat(early.overlapped()).containsExactly("pipe-trap", "deadlock");
            assertThat(early.millis()).isGreaterThanOrEqualTo(0);
            assertThat(ctx.takeEarly("cluster", Started.class)).as("taken once").isNull();
        }
        assertThat(thing.closes.get()).as("the taker owns it; the context does not close it").isZero();
    }

    @Test
    void twoStartsOfOneSection_nameThatSectionOnce() {
        CountDownLatch release = new CountDownLatch(1);
        try (TourContext ctx = context()) {
            for (String key : new String[] {"server-1", "server-2"}) {
                ctx.startEarly("server", key, () -> {
                    assertThat(release.await(60, TimeUnit.SECONDS)).isTrue();
                    return new Started();
                });
            }
            ctx.startEarly("cluster", "cluster", () -> {
                assertThat(release.await(60, TimeUnit.SECONDS)).isTrue();
                return new Started();
            });
            assertThat(ctx.beginOverlap("stopping")).containsExactly("server", "cluster");
            release.countDown();
        }
    }

    @Test
    void nothingStarted_isNull_soTheExperimentStartsItsOwn() throws Exception {
        try (TourContext ctx = context()) {
            assertThat(ctx.takeEarly("cluster", Started.class)).isNull();
            assertThat(ctx.beginOverlap("pipe-trap")).isEmpty();
        }
    }

    @Test
    void aFailedStart_failsTheExperimentThatTakesIt_withTheCause() {
        try (TourContext ctx = context()) {
            ctx.startEarly("server", "server", () -> {
                throw new IllegalStateException("member 127.0.0.1:1 exited before it was ready");
            });
            ctx.awaitStarts(); // a failure is kept for the taker, not thrown here
            assertThatThrownBy(() -> ctx.takeEarly("server", Started.class))
                    .isInstanceOf(IllegalStateException.class).hasMessageContaining("exited before it was ready");
        }
    }

    @Test
    void aStartNobodyTook_isClosedWithTheContext_andAKeyStartsOnce() {
        Started thing = new Started();
        try (TourContext ctx = context()) {
            ctx.startEarly("cluster", "cluster", () -> thing);
            assertThatThrownBy(() -> ctx.startEarly("cluster", "cluster", () -> thing))
                    .isInstanceOf(IllegalStateException.class).hasMessageContaining("'cluster'");
        }
        assertThat(thing.closes.get()).isEqualTo(1);
    }
}
