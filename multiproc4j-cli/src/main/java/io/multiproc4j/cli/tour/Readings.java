package io.multiproc4j.cli.tour;

import java.util.List;
import java.util.Locale;

/**
 * How the tour's sentences decide what a pair of figures says. Every reading compares measured
 * figures of the same run; within {@link #SAME_WITHIN} of each other two figures count as equal,
 * because on a shared machine a run-to-run difference that small is noise.
 */
final class Readings {
    /** Figures within 15 % of each other read as "about the same". */
    static final double SAME_WITHIN = 0.15;

    private Readings() {}

    /** How a figure compares with its baseline. */
    enum Outcome { FASTER, SAME, SLOWER }

    /**
     * @param speedup baseline time / measured time (above 1: faster than the baseline)
     * @return the outcome, with {@link #SAME_WITHIN} as the band of noise
     */
    static Outcome of(double speedup) {
        if (speedup >= 1 + SAME_WITHIN) {
            return Outcome.FASTER;
        }
        if (speedup <= 1 / (1 + SAME_WITHIN)) {
            return Outcome.SLOWER;
        }
        return Outcome.SAME;
    }

    /**
     * @param samples timed runs of one figure
     * @return whether they spread so widely (slowest over fastest above 1.5) that one figure means little
     */
    static boolean noisy(double[] samples) {
        if (samples.length < 2) {
            return false;
        }
        double min = Double.MAX_VALUE;
        double max = 0;
        for (double s : samples) {
            min = Math.min(min, s);
            max = Math.max(max, s);
        }
        return min > 0 && max / min > 1.5;
    }

    /**
     * @param ratio a ratio of two figures, at least 1
     * @return it as people say it: "1.8x", "12x", "1,200x"
     */
    static String times(double ratio) {
        return ratio >= 100 ? String.format(Locale.ROOT, "%,.0fx", ratio)
                : ratio >= 10 ? String.format(Locale.ROOT, "%.0fx", ratio)
                : String.format(Locale.ROOT, "%.2fx", ratio);
    }

    /**
     * @param names section ids or other names, at least one
     * @return them as a sentence lists them: "a", "a and b", "a, b and c"
     */
    static String and(List<String> names) {
        return names.size() <= 1 ? String.join("", names)
                : String.join(", ", names.subList(0, names.size() - 1)) + " and " + names.getLast();
    }
}
