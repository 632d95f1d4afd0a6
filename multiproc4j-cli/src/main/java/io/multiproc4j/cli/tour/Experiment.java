package io.multiproc4j.cli.tour;

import io.multiproc4j.cli.report.Section;

/**
 * One experiment of the tour. The tour runs a list of these in order; a new experiment (the
 * shared-counter race, queue vs pipe, ...) is one more class in {@link Tour#experiments()}.
 */
public interface Experiment {
    /** @return a stable key, used in results.json and for {@code --only} */
    String id();

    /**
     * @param ctx the sizes and pools of this run
     * @return how many progress steps {@link #run} will report, for the bar
     */
    int steps(TourContext ctx);

    /**
     * Measures, reporting each step to {@code ctx.progress()}.
     * @param ctx the sizes and pools of this run
     * @return the table, its reading and a chart
     * @throws Exception when a measurement fails
     */
    Section run(TourContext ctx) throws Exception;
}
