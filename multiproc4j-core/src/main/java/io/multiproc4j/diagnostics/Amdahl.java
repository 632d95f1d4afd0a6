package io.multiproc4j.diagnostics;

/**
 * Amdahl's and Gustafson's laws, and the Karp–Flatt metric that reads a serial fraction back out of
 * a measured speed-up.
 *
 * <p>With a parallel fraction {@code p} of the work (0..1) and {@code n} workers:
 * <pre>
 *   Amdahl (fixed problem size):     S(n) = 1 / ((1 - p) + p / n)      at most 1 / (1 - p)
 *   Gustafson (problem grows with n): S(n) = (1 - p) + p * n
 *   Karp–Flatt (from a measured S):   e    = (1/S - 1/n) / (1 - 1/n)   the experimentally
 *                                                                   determined serial fraction
 * </pre>
 * A Karp–Flatt {@code e} that grows with {@code n} means overhead (communication, contention) grows
 * with the worker count, not just a fixed serial part.
 * {@snippet :
 * double predicted = Amdahl.speedup(0.95, 8);          // 5.93
 * double e = Amdahl.karpFlatt(1.8, 2);                 // 0.111: 11 % of the run behaved serially
 * }
 */
public final class Amdahl {
    private Amdahl() {}

    /**
     * @param parallelFraction the fraction of the work that runs in parallel, 0..1
     * @param workers          the number of workers, at least 1
     * @return Amdahl's predicted speed-up for a fixed problem size
     * @throws IllegalArgumentException when an argument is out of range
     */
    public static double speedup(double parallelFraction, int workers) {
        check(parallelFraction, workers);
        return 1.0 / ((1.0 - parallelFraction) + parallelFraction / workers);
    }

    /**
     * @param parallelFraction the fraction of the work that runs in parallel, 0..1
     * @return the speed-up no number of workers can beat, {@code 1 / (1 - p)}; infinite when p is 1
     * @throws IllegalArgumentException when p is out of range
     */
    public static double limit(double parallelFraction) {
        check(parallelFraction, 1);
        return 1.0 / (1.0 - parallelFraction);
    }

    /**
     * @param parallelFraction the fraction of the work (measured on {@code workers}) that runs in
     *                         parallel, 0..1
     * @param workers          the number of workers, at least 1
     * @return Gustafson's scaled speed-up, when the problem grows with the worker count
     * @throws IllegalArgumentException when an argument is out of range
     */
    public static double gustafson(double parallelFraction, int workers) {
        check(parallelFraction, workers);
        return (1.0 - parallelFraction) + parallelFraction * workers;
    }

    /**
     * The Karp–Flatt metric: the serial fraction that explains a measured speed-up.
     * @param measuredSpeedup the speed-up measured with {@code workers} workers, positive
     * @param workers         at least 2 (with one worker there is nothing to estimate)
     * @return the experimentally determined serial fraction (may exceed 1 when parallel runs are
     *     slower than serial ones, or be negative for super-linear speed-ups)
     * @throws IllegalArgumentException when an argument is out of range
     */
    public static double karpFlatt(double measuredSpeedup, int workers) {
        if (!(measuredSpeedup > 0) || Double.isInfinite(measuredSpeedup)) {
            throw new IllegalArgumentException("measured speed-up must be a positive number, was " + measuredSpeedup);
        }
        if (workers < 2) {
            throw new IllegalArgumentException("Karp-Flatt needs at least 2 workers, was " + workers);
        }
        double n = workers;
        return (1.0 / measuredSpeedup - 1.0 / n) / (1.0 - 1.0 / n);
    }

    /**
     * Inverts Amdahl's law: the parallel fraction that gives {@code measuredSpeedup} on {@code workers}.
     * @param measuredSpeedup the speed-up measured with {@code workers} workers, positive
     * @param workers         at least 2
     * @return {@code 1 - karpFlatt(measuredSpeedup, workers)}
     */
    public static double parallelFraction(double measuredSpeedup, int workers) {
        return 1.0 - karpFlatt(measuredSpeedup, workers);
    }

    private static void check(double p, int workers) {
        if (!(p >= 0.0 && p <= 1.0)) {
            throw new IllegalArgumentException("parallel fraction must be between 0 and 1 (0.95 = 95 %), was " + p);
        }
        if (workers < 1) {
            throw new IllegalArgumentException("workers must be at least 1, was " + workers);
        }
    }
}
