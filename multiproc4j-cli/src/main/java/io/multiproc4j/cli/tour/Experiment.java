package io.multiproc4j.cli.tour;

import io.multiproc4j.cli.report.Section;
import java.util.List;
import java.util.Map;

/**
 * One experiment of the tour. The tour runs a list of these in order; a new experiment is one more
 * class in {@link Tour#experiments()}.
 *
 * <p>An experiment with a Python counterpart names the parameters of that measurement
 * ({@link #pythonParams}) and the figures it expects back ({@link #pythonKeys}); the tour's Python
 * script ({@code tour_python.py}) measures them with {@code multiprocessing} before the Java side runs,
 * and {@link TourContext#python()} hands them to {@link #run}.
 */
public interface Experiment {
    /** @return a stable key, used in results.json and for {@code --only} */
    String id();

    /** @return one line saying what the experiment shows, for {@code tour --list} */
    String description();

    /**
     * @param ctx the sizes and pools of this run
     * @return how many progress steps {@link #run} will report, for the bar
     */
    int steps(TourContext ctx);

    /**
     * @param ctx the sizes of this run
     * @return the parameters of the Python side of this experiment (sizes, delays), empty when it has none
     */
    default Map<String, Object> pythonParams(TourContext ctx) {
        return Map.of();
    }

    /** @return the figures the Python side must print for this experiment; empty when it has none */
    default List<String> pythonKeys() {
        return List.of();
    }

    /**
     * Whether what this experiment shows stays true while other JVMs start beside it: it measures
     * sizes, a wait-for graph or how work stops, not how fast the cores compute. While such an
     * experiment runs, the tour starts the slow set-up of later experiments in the background
     * ({@link #startEarly}); before any other experiment it waits until that set-up is done, so no
     * start ever competes with a measurement of speed.
     *
     * @return true when background starts may overlap this experiment
     */
    default boolean toleratesBackgroundStarts() {
        return false;
    }

    /**
     * Starts the slow set-up that {@link #run} would otherwise begin with (member JVMs, say) through
     * {@link TourContext#startEarly}, for {@code run} to take with {@link TourContext#takeEarly}. The
     * tour calls this, at most once, while an experiment that {@linkplain #toleratesBackgroundStarts
     * tolerates it} runs; {@code run} must still work without it (with {@code --only}).
     *
     * @param ctx the sizes and pools of this run
     */
    default void startEarly(TourContext ctx) {}

    /**
     * Measures, reporting each step to {@code ctx.progress()}.
     * @param ctx the sizes and pools of this run
     * @return the table, its reading and a chart
     * @throws Exception when a measurement fails
     */
    Section run(TourContext ctx) throws Exception;
}
